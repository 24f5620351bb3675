use migcheck_shared::{
    AuthMethod, AutodiscoverTarget, Check, DiagnoseRequest, Evidence, HostTarget, KbStep, OutlookAnywhereTarget,
    RemoteMoveTarget, Status,
};

use super::fragment::FRAGMENT_VALUE_MAX;
use super::*;

fn check(id: &str, status: Status, children: Vec<Check>) -> Check {
    Check {
        id: id.into(),
        title: id.into(),
        status,
        summary: format!("{id} summary"),
        evidence: Evidence::default(),
        elapsed_ms: 7,
        timings: Vec::new(),
        kb_step: Some(KbStep::Certificate),
        children,
    }
}

fn started(id: &str, parent: Option<&str>) -> Event {
    Event::Started {
        id: id.into(),
        title: id.into(),
        parent: parent.map(Into::into),
        kb_step: Some(KbStep::Certificate),
    }
}

fn run(state: Rc<State>, events: Vec<Event>) -> Rc<State> {
    let run = state.run.number + 1;
    let mut state = state.reduce(Action::Start { run });
    let run = state.run.number;
    for event in events {
        state = state.reduce(Action::Event { run, event });
    }
    state
}

/// Runs `state` once more, the relay refusing it with `message` about `field`.
fn relay_said(state: Rc<State>, field: Field, message: &str) -> Rc<State> {
    run(
        state,
        vec![Event::Error {
            message: message.into(),
            field: Some(field.name().into()),
        }],
    )
}

/// Runs `state` once more, the relay busy or out of reach (`message`).
fn run_failed(state: Rc<State>, message: &str) -> Rc<State> {
    let run = state.run.number + 1;
    state.reduce(Action::Start { run }).reduce(Action::RunFailed {
        run,
        message: message.into(),
    })
}

/// The wizard's step number (1-based) and how many steps the mode has.
fn step_number(s: &State) -> (usize, usize) {
    s.form.mode.step_number(s.position.step)
}

/// What the relay says about each field of the mode is shown under that field, not at the top.
fn assert_relay_errors_under_fields(s: &Rc<State>) {
    for field in s.form.mode.fields().iter().copied() {
        let s = relay_said(s.clone(), field, &format!("relay: bad {field}"));
        assert_eq!(s.field_error(field), Some(format!("relay: bad {field}")));
        assert_eq!(s.general_error(), None, "{field} is shown under its field");
    }
}

/// `s` switched to the Autodiscover mode with an address, and the request it builds there.
fn as_autodiscover(s: &Rc<State>) -> (Rc<State>, AutodiscoverTarget) {
    let a = s
        .clone()
        .reduce(Action::SetMode(Mode::Autodiscover))
        .reduce(Action::SetEmail("alice@contoso.com".into()));
    match a.form.request() {
        Ok(DiagnoseRequest::Autodiscover(target)) => (a, target),
        other => panic!("not an Autodiscover request: {other:?}"),
    }
}

#[test]
fn started_events_build_the_tree_under_their_parent() {
    let s = run(
        Rc::default(),
        vec![
            started("tls", None),
            started("tls.chain", Some("tls")),
            started("net", None),
        ],
    );
    assert_eq!(s.run.tree.len(), 2);
    assert_eq!(s.run.tree[0].children[0].id, "tls.chain");
    assert_eq!(s.run.tree[0].children[0].status, NodeStatus::Running);
    assert_eq!(s.run.progress(), (0, 3));
    assert!(s.run.running);
}

#[test]
fn finished_parent_merges_its_children_by_id() {
    let s = run(
        Rc::default(),
        vec![
            started("tls", None),
            started("tls.chain", Some("tls")),
            Event::Finished {
                check: check(
                    "tls",
                    Status::Fail,
                    vec![
                        check("tls.chain", Status::Pass, vec![]),
                        check("tls.dates", Status::Fail, vec![]),
                    ],
                ),
            },
        ],
    );
    let tls = &s.run.tree[0];
    assert_eq!(tls.status, NodeStatus::Done(Status::Fail));
    assert_eq!(tls.children.len(), 2);
    assert_eq!(tls.children[0].status, NodeStatus::Done(Status::Pass));
    assert_eq!(tls.children[1].id, "tls.dates");
    assert_eq!(s.run.progress(), (3, 3));
}

#[test]
fn the_token_field_shows_the_relays_refusal_until_the_token_changes() {
    let s = run(
        Rc::default(),
        vec![Event::Error {
            message: "this relay needs its access token".into(),
            field: Some("token".into()),
        }],
    );
    assert!(s.relay.needs_token);
    assert_eq!(
        s.field_error(Field::Token).as_deref(),
        Some("this relay needs its access token")
    );
    assert_eq!(s.general_error(), None, "shown at the field, not at the top");
    let s = s.reduce(Action::SetToken(Password::new("t0ken")));
    assert_eq!(s.field_error(Field::Token), None);
    let s = s.reduce(Action::NeedsToken { refused: true });
    assert_eq!(
        s.field_error(Field::Token).as_deref(),
        Some("The relay did not accept this access token.")
    );
    let s = s.reduce(Action::ForgetPassword);
    assert!(s.relay.token.is_empty() && s.relay.needs_token);
    assert!(!format!("{s:?}").contains("t0ken"));
}

#[test]
fn events_of_an_older_run_are_dropped() {
    let s = run(Rc::default(), vec![started("net", None)]);
    let s = s.reduce(Action::Start { run: 2 });
    let s = s.reduce(Action::Event {
        run: 1,
        event: started("tls", None),
    });
    assert!(s.run.tree.is_empty());
    assert_eq!(
        s.reduce(Action::Start { run: 2 }).run.number,
        2,
        "a repeated start is ignored"
    );
}

#[test]
fn errors_go_to_their_field_and_clear_when_it_is_edited() {
    let s = run(
        Rc::default(),
        vec![Event::Error {
            message: "no such host".into(),
            field: Some("host".into()),
        }],
    );
    let s = s.reduce(Action::SetHost("mail.contoso.com".into()));
    assert_eq!(s.field_error(Field::Host), None);
    let run_id = s.run.number;
    let s = s.reduce(Action::Event {
        run: run_id,
        event: Event::Error {
            message: "busy".into(),
            field: None,
        },
    });
    assert_eq!(s.general_error().as_deref(), Some("busy"));
    let s = run(
        Rc::default(),
        vec![
            started("tls", None),
            Event::Error {
                message: "cut".into(),
                field: None,
            },
        ],
    );
    assert_eq!(
        s.run.tree[0].status,
        NodeStatus::Stopped,
        "no check stays running once the run ended"
    );
    assert!(!s.run.running);
}

#[test]
fn the_form_is_validated_with_the_shared_rules() {
    let s = Rc::<State>::default()
        .reduce(Action::SetMode(Mode::Host))
        .reduce(Action::SetHost("mail contoso.com".into()));
    assert!(s.field_error(Field::Host).is_some_and(|m| m.contains("spaces")));
    let s = s
        .reduce(Action::SetHost("https://mail.contoso.com/owa".into()))
        .reduce(Action::SetPort("0".into()));
    assert_eq!(s.form.request().expect_err("port 0").field, Field::Port);
    assert!(s.field_error(Field::Port).is_some());
    let s = s.reduce(Action::SetPort("".into()));
    assert_eq!(
        s.form.request().ok(),
        Some(DiagnoseRequest::Host(HostTarget {
            host: "https://mail.contoso.com/owa".into(),
            port: None
        }))
    );
    assert!(
        Rc::<State>::default().field_error(Field::Host).is_none(),
        "an untouched field shows no error"
    );
}

fn autodiscover(email: &str, user: &str, password: &str) -> Rc<State> {
    Rc::<State>::default()
        .reduce(Action::SetEmail(email.into()))
        .reduce(Action::SetUser(user.into()))
        .reduce(Action::SetPassword(Password::new(password)))
}

#[test]
fn autodiscover_is_the_first_mode_and_builds_its_request() {
    assert_eq!(State::default().form.mode, Mode::Autodiscover);
    let s = autodiscover(" alice@contoso.com ", "CONTOSO\\alice", "Pa55 word!").reduce(Action::SetAllowRedirect(true));
    assert_eq!(
        s.form.request().ok(),
        Some(DiagnoseRequest::Autodiscover(AutodiscoverTarget {
            email: "alice@contoso.com".into(),
            user: "CONTOSO\\alice".into(),
            password: Password::new("Pa55 word!"),
            allow_credential_redirect: true,
            target_mailbox: String::new(),
        }))
    );
    for field in [Field::Email, Field::User, Field::Password] {
        assert_eq!(s.field_error(field), None, "{field}");
    }
    // The other mode keeps its own fields.
    let h = s.reduce(Action::SetMode(Mode::Host));
    assert_eq!(h.form.request().expect_err("no host yet").field, Field::Host);
}

#[test]
fn autodiscover_fields_are_checked_as_typed() {
    let fresh = Rc::<State>::default();
    assert!(
        [Field::Email, Field::User, Field::Password]
            .iter()
            .all(|f| fresh.field_error(*f).is_none()),
        "untouched fields show no error"
    );
    assert_eq!(fresh.form.request().expect_err("empty form").field, Field::Email);
    let s = autodiscover("alice", "", "");
    assert!(s.field_error(Field::Email).is_some_and(|m| m.contains("'@'")));
    assert!(s.field_error(Field::Password).is_some());
    assert_eq!(
        s.field_error(Field::User),
        None,
        "an empty user means the e-mail address"
    );
    let s = s
        .reduce(Action::SetEmail("alice@contoso.com".into()))
        .reduce(Action::SetUser("\\alice".into()));
    assert!(s.field_error(Field::User).is_some());
    assert_eq!(s.form.request().expect_err("bad user").field, Field::User);
    let s = s.reduce(Action::SetUser("".into()));
    assert_eq!(s.form.request().expect_err("no password").field, Field::Password);
    let s = s.reduce(Action::SetPassword(Password::new("x")));
    assert!(s.form.request().is_ok());
}

#[test]
fn the_password_never_shows_and_is_forgotten_when_the_page_is_left() {
    let s = autodiscover("alice@contoso.com", "", "Sup3r-secret!");
    assert!(!format!("{s:?}").contains("Sup3r-secret!"));
    let s = s.reduce(Action::ForgetPassword);
    assert!(s.form.password.is_empty());
    assert_eq!(s.form.request().expect_err("forgotten").field, Field::Password);
    assert_eq!(s.form.email, "alice@contoso.com", "only the password is forgotten");
}

#[test]
fn relay_errors_follow_the_fields_of_the_mode() {
    let error = |field: Field| Event::Error {
        message: format!("bad {field}"),
        field: Some(field.name().into()),
    };
    let s = run(
        autodiscover("alice@contoso.com", "", "pw"),
        vec![error(Field::Password)],
    );
    assert_eq!(s.field_error(Field::Password).as_deref(), Some("bad password"));
    assert_eq!(s.general_error(), None, "shown under its field");
    let s = s.reduce(Action::SetPassword(Password::new("pw2")));
    assert_eq!(s.field_error(Field::Password), None, "editing the field clears it");
    // A field the form does not show in this mode is said at the top.
    let s = run(s, vec![error(Field::Host)]);
    assert_eq!(s.general_error().as_deref(), Some("bad host"));
    let s = run(s, vec![error(Field::Email)]).reduce(Action::SetMode(Mode::Host));
    assert_eq!(
        s.run.error, None,
        "a field error of the other mode goes with the switch"
    );
}

fn outlook_anywhere(proxy: &str, server: &str, user: &str, password: &str) -> Rc<State> {
    Rc::<State>::default()
        .reduce(Action::SetMode(Mode::OutlookAnywhere))
        .reduce(Action::SetRpcProxy(proxy.into()))
        .reduce(Action::SetExchangeServer(server.into()))
        .reduce(Action::SetUser(user.into()))
        .reduce(Action::SetPassword(Password::new(password)))
}

const MAILBOX_GUID: &str = "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d@contoso.com";

#[test]
fn outlook_anywhere_builds_its_request_like_the_cmdlet() {
    let s = outlook_anywhere(" mail.contoso.com ", MAILBOX_GUID, " CONTOSO\\migadmin ", "Pa55 word!");
    assert_eq!(s.form.auth, AuthMethod::Basic, "Basic unless NTLM is chosen");
    let s = s.reduce(Action::SetAuth(AuthMethod::Ntlm));
    assert_eq!(
        s.form.request().ok(),
        Some(DiagnoseRequest::OutlookAnywhere(OutlookAnywhereTarget {
            rpc_proxy: "mail.contoso.com".into(),
            exchange_server: MAILBOX_GUID.into(),
            auth: AuthMethod::Ntlm,
            user: "CONTOSO\\migadmin".into(),
            password: Password::new("Pa55 word!"),
            target_mailbox: String::new(),
        }))
    );
    let json = serde_json::to_value(s.form.request().expect("valid")).expect("json");
    assert_eq!(json["mode"], "outlook_anywhere");
    assert_eq!(json["auth"], "ntlm");
    for field in Mode::OutlookAnywhere.fields().iter().copied() {
        assert_eq!(s.field_error(field), None, "{field}");
    }
    // The account and password are the same fields as in the Autodiscover mode.
    let (a, target) = as_autodiscover(&s);
    assert_eq!(
        (target.user.as_str(), target.password),
        ("CONTOSO\\migadmin", Password::new("Pa55 word!"))
    );
    assert_eq!(
        a.reduce(Action::SetMode(Mode::OutlookAnywhere)).form.request(),
        s.form.request(),
        "switching back keeps the server names"
    );
}

#[test]
fn outlook_anywhere_fields_are_checked_as_typed() {
    let fresh = Rc::<State>::default().reduce(Action::SetMode(Mode::OutlookAnywhere));
    assert_eq!(fresh.form.request().expect_err("empty form").field, Field::RpcProxy);
    let fields = [Field::RpcProxy, Field::ExchangeServer, Field::User, Field::Password];
    assert!(
        fields.iter().all(|f| fresh.field_error(*f).is_none()),
        "untouched fields show no error"
    );
    // A field typed and emptied again says what it needs.
    let emptied = fresh
        .reduce(Action::SetRpcProxy("m".into()))
        .reduce(Action::SetRpcProxy(" ".into()));
    assert!(
        emptied
            .field_error(Field::RpcProxy)
            .is_some_and(|m| m.contains("server name"))
    );
    assert_eq!(emptied.field_error(Field::ExchangeServer), None, "still untouched");

    let s = outlook_anywhere("mail.contoso.com", "alice@contoso.com", "", "pw");
    let says = s
        .field_error(Field::ExchangeServer)
        .expect("an e-mail address is not a mailbox GUID");
    assert!(says.contains("GUID"), "{says}");
    assert_eq!(s.form.request().expect_err("bad server").field, Field::ExchangeServer);
    assert_eq!(
        s.field_error(Field::User),
        None,
        "the empty account waits until the fields before it are right"
    );
    let s = s.reduce(Action::SetExchangeServer("EX01.contoso.com".into()));
    assert_eq!(s.field_error(Field::ExchangeServer), None);
    assert_eq!(
        s.form.request().expect_err("no user").field,
        Field::User,
        "the account is required in this mode"
    );
    assert!(
        s.field_error(Field::User)
            .is_some_and(|m| m.contains("migration account")),
        "{:?}",
        s.field_error(Field::User)
    );
    assert_eq!(
        s.clone()
            .reduce(Action::SetMode(Mode::Autodiscover))
            .field_error(Field::User),
        None,
        "in the Autodiscover mode an empty account means the e-mail address"
    );
    let s = s
        .reduce(Action::SetUser("migadmin@contoso.com".into()))
        .reduce(Action::SetRpcProxy("mail contoso.com".into()));
    assert!(s.field_error(Field::RpcProxy).is_some_and(|m| m.contains("spaces")));
    let s = s.reduce(Action::SetRpcProxy("https://mail.contoso.com/rpc/rpcproxy.dll".into()));
    assert!(s.form.request().is_ok(), "{:?}", s.form.request());
    assert!(!format!("{s:?}").contains("\"pw\""), "the password is redacted");
}

#[test]
fn relay_errors_go_under_the_outlook_anywhere_fields() {
    let s = outlook_anywhere("mail.contoso.com", "ex01.contoso.com", "migadmin@contoso.com", "pw");
    assert_relay_errors_under_fields(&s);
    let s = relay_said(s, Field::Email, "bad email");
    assert_eq!(
        s.general_error().as_deref(),
        Some("bad email"),
        "not a field of this mode"
    );
    let s = relay_said(s, Field::RpcProxy, "no such proxy").reduce(Action::SetRpcProxy("mail2.contoso.com".into()));
    assert_eq!(
        s.field_error(Field::RpcProxy),
        None,
        "editing the field clears the relay's word"
    );
}

fn remote_move(server: &str, user: &str, password: &str, mailbox: &str) -> Rc<State> {
    Rc::<State>::default()
        .reduce(Action::SetMode(Mode::RemoteMove))
        .reduce(Action::SetRemoteServer(server.into()))
        .reduce(Action::SetUser(user.into()))
        .reduce(Action::SetPassword(Password::new(password)))
        .reduce(Action::SetTargetMailbox(mailbox.into()))
}

#[test]
fn remote_move_builds_its_request_like_the_cmdlet() {
    let s = remote_move(" mail.contoso.com ", " CONTOSO\\migadmin ", "Pa55 word!", "");
    assert_eq!(
        s.form.request().ok(),
        Some(DiagnoseRequest::RemoteMove(RemoteMoveTarget {
            remote_server: "mail.contoso.com".into(),
            user: "CONTOSO\\migadmin".into(),
            password: Password::new("Pa55 word!"),
            target_mailbox: String::new(),
            servers: String::new(),
            agent_target: String::new(),
        }))
    );
    let json = serde_json::to_value(s.form.request().expect("valid")).expect("json");
    assert_eq!(json["mode"], "remote_move");
    assert_eq!(json["remote_server"], "mail.contoso.com");
    assert!(
        json.get("target_mailbox").is_none(),
        "an empty mailbox is not sent: {json}"
    );
    let s = s.reduce(Action::SetTargetMailbox(" adele@contoso.com ".into()));
    let json = serde_json::to_value(s.form.request().expect("valid")).expect("json");
    assert_eq!(json["target_mailbox"], "adele@contoso.com");
    for field in Mode::RemoteMove.fields().iter().copied() {
        assert_eq!(s.field_error(field), None, "{field}");
    }
    // The account, the password and the mailbox are the same fields in the other modes that log on.
    let (a, target) = as_autodiscover(&s);
    assert_eq!(
        (target.user.as_str(), target.target_mailbox.as_str()),
        ("CONTOSO\\migadmin", "adele@contoso.com")
    );
    let o = a
        .reduce(Action::SetMode(Mode::OutlookAnywhere))
        .reduce(Action::SetRpcProxy("mail.contoso.com".into()))
        .reduce(Action::SetExchangeServer("ex01.contoso.com".into()));
    let Ok(DiagnoseRequest::OutlookAnywhere(target)) = o.form.request() else {
        panic!("not an Outlook Anywhere request: {:?}", o.form.request())
    };
    assert_eq!(target.target_mailbox, "adele@contoso.com");
    assert_eq!(
        o.reduce(Action::SetMode(Mode::RemoteMove)).form.request(),
        s.form.request(),
        "switching back keeps the remote server"
    );
}

#[test]
fn remote_move_fields_are_checked_as_typed() {
    let fresh = Rc::<State>::default().reduce(Action::SetMode(Mode::RemoteMove));
    assert_eq!(fresh.form.request().expect_err("empty form").field, Field::RemoteServer);
    assert!(
        Mode::RemoteMove
            .fields()
            .iter()
            .all(|f| fresh.field_error(*f).is_none()),
        "untouched fields show no error"
    );
    let emptied = fresh
        .reduce(Action::SetRemoteServer("m".into()))
        .reduce(Action::SetRemoteServer(" ".into()));
    assert!(
        emptied
            .field_error(Field::RemoteServer)
            .is_some_and(|m| m.contains("server name")),
        "{:?}",
        emptied.field_error(Field::RemoteServer)
    );

    // The mailbox is checked as soon as it is typed, whatever the other fields say.
    let s = emptied.reduce(Action::SetTargetMailbox("not-an-address".into()));
    assert!(
        s.field_error(Field::TargetMailbox).is_some_and(|m| m.contains("'@'")),
        "{:?}",
        s.field_error(Field::TargetMailbox)
    );
    let s = s
        .reduce(Action::SetRemoteServer("mail.contoso.com".into()))
        .reduce(Action::SetUser(String::new()));
    assert_eq!(
        s.form.request().expect_err("no user").field,
        Field::User,
        "the account is required in this mode"
    );
    assert!(
        s.field_error(Field::User)
            .is_some_and(|m| m.contains("migration account"))
    );
    let s = s
        .reduce(Action::SetUser("migadmin@contoso.com".into()))
        .reduce(Action::SetPassword(Password::new("pw")));
    assert_eq!(s.form.request().expect_err("bad mailbox").field, Field::TargetMailbox);
    let s = s.reduce(Action::SetTargetMailbox(" ".into()));
    assert_eq!(s.field_error(Field::TargetMailbox), None, "empty: not checked");
    assert!(s.form.request().is_ok(), "{:?}", s.form.request());
    assert_eq!(
        s.reduce(Action::SetMode(Mode::Host)).field_error(Field::TargetMailbox),
        None
    );
}

#[test]
fn the_mailbox_is_checked_in_every_mode_that_logs_on() {
    let s = autodiscover("alice@contoso.com", "", "pw").reduce(Action::SetTargetMailbox("adele".into()));
    assert_eq!(s.form.request().expect_err("bad mailbox").field, Field::TargetMailbox);
    assert!(s.field_error(Field::TargetMailbox).is_some());
    assert!(Mode::Autodiscover.fields().contains(&Field::TargetMailbox));
    assert!(Mode::OutlookAnywhere.fields().contains(&Field::TargetMailbox));
    assert!(!Mode::Host.fields().contains(&Field::TargetMailbox));
    let o = outlook_anywhere("mail.contoso.com", "ex01.contoso.com", "u@contoso.com", "pw")
        .reduce(Action::SetTargetMailbox("adele@".into()));
    assert_eq!(o.form.request().expect_err("bad mailbox").field, Field::TargetMailbox);
}

#[test]
fn relay_errors_go_under_the_remote_move_fields() {
    let s = remote_move("mail.contoso.com", "migadmin@contoso.com", "pw", "adele@contoso.com");
    assert_relay_errors_under_fields(&s);
    let s = relay_said(s, Field::TargetMailbox, "no such mailbox");
    assert_eq!(s.field_error(Field::TargetMailbox).as_deref(), Some("no such mailbox"));
    let s = s.reduce(Action::SetMode(Mode::Host));
    assert_eq!(
        s.run.error, None,
        "a field error of the other mode goes with the switch"
    );
    let s = relay_said(
        s.reduce(Action::SetMode(Mode::RemoteMove)),
        Field::TargetMailbox,
        "no such mailbox",
    )
    .reduce(Action::SetTargetMailbox("adele2@contoso.com".into()));
    assert_eq!(
        s.field_error(Field::TargetMailbox),
        None,
        "editing the field clears the relay's word"
    );
}

#[test]
fn the_wizard_walks_its_steps_and_stops_at_a_wrong_field() {
    let s = Rc::<State>::default();
    assert_eq!((s.position.step, step_number(&s)), (Step::Kind, (1, 3)));
    let s = s.reduce(Action::Next);
    assert_eq!(
        (s.position.step, step_number(&s)),
        (Step::Find, (2, 3)),
        "a staged migration asks how to find the server"
    );
    let s = s.reduce(Action::Next);
    assert_eq!(s.position.step, Step::Find, "no e-mail address yet: the step stays");
    assert!(s.field_error(Field::Email).is_some(), "and says why");
    let s = s
        .reduce(Action::SetEmail("alice@contoso.com".into()))
        .reduce(Action::Next);
    assert_eq!((s.position.step, step_number(&s)), (Step::Details, (3, 3)));
    assert_eq!(
        s.clone().reduce(Action::Next).position.step,
        Step::Details,
        "the last step has no Next"
    );
    let s = s.reduce(Action::Back).reduce(Action::Back);
    assert_eq!(s.position.step, Step::Kind);
    assert_eq!(s.clone().reduce(Action::Back).position.step, Step::Kind);

    // A remote move and a certificate check skip step 2.
    let r = s.clone().reduce(Action::SetKind(Kind::RemoteMove));
    assert_eq!((r.form.mode, step_number(&r)), (Mode::RemoteMove, (1, 2)));
    let r = r.reduce(Action::Next);
    assert_eq!((r.position.step, step_number(&r)), (Step::Details, (2, 2)));
    assert_eq!(r.form.mode.step_fields(Step::Details), Mode::RemoteMove.fields());
    assert_eq!(r.reduce(Action::Back).position.step, Step::Kind);
    let h = s.clone().reduce(Action::SetKind(Kind::Host)).reduce(Action::Next);
    assert_eq!((h.form.mode, h.position.step), (Mode::Host, Step::Details));

    // Back to a staged migration: the server names chosen before are kept.
    let o = s
        .reduce(Action::Next)
        .reduce(Action::SetMode(Mode::OutlookAnywhere))
        .reduce(Action::Back)
        .reduce(Action::SetKind(Kind::RemoteMove))
        .reduce(Action::SetKind(Kind::Staged));
    assert_eq!(o.form.mode, Mode::Autodiscover, "from another kind, Autodiscover first");
    let o = o
        .reduce(Action::SetMode(Mode::OutlookAnywhere))
        .reduce(Action::SetKind(Kind::Staged));
    assert_eq!(o.form.mode, Mode::OutlookAnywhere, "the same kind keeps its mode");
    let o = o
        .reduce(Action::Next)
        .reduce(Action::SetRpcProxy("mail.contoso.com".into()))
        .reduce(Action::Next);
    assert_eq!(o.position.step, Step::Find, "the Exchange server is missing");
    assert!(o.field_error(Field::ExchangeServer).is_some());
    assert_eq!(o.field_error(Field::User), None, "a field of a later step waits");
}

#[test]
fn the_reopen_link_carries_the_inputs_but_never_the_password() {
    let s = outlook_anywhere(
        "mail.contoso.com",
        "ex01.contoso.com",
        "CONTOSO\\mig admin",
        "Sup3r&secret=1",
    )
    .reduce(Action::SetAuth(AuthMethod::Ntlm))
    .reduce(Action::SetTargetMailbox("adele+mig@contoso.com".into()));
    let fragment = s.form.fragment();
    assert_eq!(
        fragment,
        "mode=outlook_anywhere&rpc_proxy=mail.contoso.com&exchange_server=ex01.contoso.com&auth=ntlm\
         &user=CONTOSO%5Cmig%20admin&target_mailbox=adele%2Bmig%40contoso.com"
    );
    assert!(!fragment.contains("Sup3r") && !fragment.contains("password"));

    let r = Rc::<State>::default().reduce(Action::Reopen(format!("#{fragment}")));
    assert_eq!(
        r.position.step,
        Step::Details,
        "the server names are right: the credentials are left"
    );
    assert!(r.form.password.is_empty());
    assert_eq!(r.form.draft(), s.form.draft(), "the same inputs");
    assert_eq!(
        r.field_error(Field::Password),
        None,
        "the password untouched: no message yet"
    );
    assert_eq!(r.form.fragment(), fragment);

    // Other modes, and what a hand-made link may hold.
    for s in [
        autodiscover("alice@contoso.com", "", "pw").reduce(Action::SetAllowRedirect(true)),
        remote_move("mail.contoso.com", "m@contoso.com", "pw", "adele@contoso.com"),
        Rc::<State>::default()
            .reduce(Action::SetKind(Kind::Host))
            .reduce(Action::SetHost("mail.contoso.com".into()))
            .reduce(Action::SetPort("444".into())),
    ] {
        let r = Rc::<State>::default().reduce(Action::Reopen(s.form.fragment()));
        assert_eq!(
            (r.form.mode, r.form.draft()),
            (s.form.mode, s.form.draft()),
            "{}",
            s.form.fragment()
        );
    }
    let r = Rc::<State>::default().reduce(Action::Reopen(
        "mode=remote_move&password=leak&remote_server=mail.contoso.com&email=x%40y.z&nonsense&bad=%zz&user=a+b%ZZ"
            .into(),
    ));
    assert!(r.form.password.is_empty(), "a password in a link is ignored");
    assert_eq!(
        (r.form.mode, r.form.remote_server.as_str(), r.form.user.as_str()),
        (Mode::RemoteMove, "mail.contoso.com", "a b%ZZ")
    );
    assert_eq!(r.form.email, "", "a field of another mode is ignored");
    let long = "a".repeat(5000);
    let r = Rc::<State>::default().reduce(Action::Reopen(format!("mode=host&host={long}")));
    assert_eq!(r.form.host.len(), FRAGMENT_VALUE_MAX);
    assert_eq!(
        Rc::<State>::default()
            .reduce(Action::Reopen("mode=exchange2003&host=x".into()))
            .as_ref(),
        &State::default(),
        "an unknown mode changes nothing"
    );
    let r = Rc::<State>::default().reduce(Action::Reopen(
        "mode=outlook_anywhere&rpc_proxy=mail.contoso.com&exchange_server=alice%40contoso.com".into(),
    ));
    assert_eq!(r.position.step, Step::Find, "opens at the step with the wrong field");
    assert!(r.field_error(Field::ExchangeServer).is_some_and(|m| m.contains("GUID")));
}

#[test]
fn a_demo_fills_the_wizard_ready_to_run() {
    let request: DiagnoseRequest = serde_json::from_value(serde_json::json!({
        "mode": "remote_move", "remote_server": "ex01.demo.test", "user": "demo\\mig", "password": "lab-pw",
    }))
    .expect("request");
    let s = Rc::<State>::default().reduce(Action::Fill(request.clone()));
    assert_eq!(s.position.step, Step::Details);
    assert_eq!(s.form.request(), Ok(request));
    assert_eq!(s.form.password_filled, 1, "the password input is told to show it");
    let host: DiagnoseRequest =
        serde_json::from_value(serde_json::json!({"mode": "host", "host": "expired.demo.test", "port": 8443}))
            .expect("host");
    let h = s.reduce(Action::Fill(host.clone()));
    assert_eq!((h.form.request(), h.form.port.as_str()), (Ok(host), "8443"));
    assert!(h.form.password.is_empty(), "no password in this mode");
}

#[test]
fn a_cancelled_run_keeps_what_finished_and_drops_the_rest() {
    let s = run(
        Rc::default(),
        vec![
            started("tls", None),
            started("net", None),
            Event::Finished {
                check: check("net", Status::Pass, vec![]),
            },
        ],
    );
    let run_id = s.run.number;
    assert!(
        !s.clone().reduce(Action::Cancel { run: run_id - 1 }).run.cancelled,
        "an older run"
    );
    let s = s.reduce(Action::Cancel { run: run_id });
    assert!(s.run.cancelled && !s.run.running);
    assert_eq!(s.run.tree[0].status, NodeStatus::Stopped);
    assert_eq!(
        s.run.tree[1].status,
        NodeStatus::Done(Status::Pass),
        "a finished check stays"
    );
    assert_eq!(s.run.progress(), (1, 2), "a stopped check is not counted as finished");
    // The aborted fetch ends with an error: not shown, nor anything after the cancel.
    let s = s
        .reduce(Action::RunFailed {
            run: run_id,
            message: "cannot reach".into(),
        })
        .reduce(Action::Ended { run: run_id });
    assert_eq!((s.run.error.clone(), s.run.report.clone()), (None, None));
    assert!(s.run.cancelled);
    let s = s.reduce(Action::Start { run: run_id + 1 });
    assert!(!s.run.cancelled && s.run.running && s.run.tree.is_empty());
    assert!(s.reduce(Action::Cancel { run: run_id + 1 }).run.cancelled);
}

#[test]
fn a_busy_or_unreachable_relay_is_said_next_to_run() {
    let s = run_failed(autodiscover("alice@contoso.com", "", "pw"), "the relay is busy");
    assert_eq!(
        s.run.error.as_ref().and_then(|e| e.at(Place::Run)).as_deref(),
        Some("the relay is busy")
    );
    assert_eq!(s.general_error(), None);
    assert_eq!(s.field_error(Field::Email), None);
}

#[test]
fn a_field_the_page_does_not_know_is_said_at_the_top_until_the_mode_changes() {
    let s = run(
        autodiscover("alice@contoso.com", "", "pw"),
        vec![Event::Error {
            message: "hots: not used in mode 'autodiscover'".into(),
            field: Some("hots".into()),
        }],
    );
    assert_eq!(
        s.general_error().as_deref(),
        Some("hots: not used in mode 'autodiscover'")
    );
    assert_eq!(s.reduce(Action::SetMode(Mode::Host)).run.error, None);
}

/// Issue 19: a relay inside the network offers the servers behind the name and a Hybrid Agent's published
/// server. Both go into the request, say what is wrong under their own field, and survive the reopen link;
/// a field not shown is not sent (it could neither be seen nor put right).
#[test]
fn the_servers_behind_the_name_and_an_agents_server_go_into_the_request() {
    let inside = |s: Rc<State>| {
        s.reduce(Action::Info(migcheck_shared::RelayInfo {
            version: "0".into(),
            egress: "any: every address and port".into(),
            inside: true,
            demos: Vec::new(),
            modes: Vec::new(),
            compare_with: None,
        }))
    };
    let user = "CONTOSO\\migadmin";
    // From a relay that does not reach inside a network, neither field is shown nor sent.
    let outside = remote_move("mail.contoso.com", user, "pw", "").reduce(Action::SetServers("ex01 ex02".into()));
    assert!(!outside.form.shows(Field::Servers));
    assert_eq!(outside.field_error(Field::Servers), None);
    let request = outside.form.request().expect("valid: the hidden field is not sent");
    let json = serde_json::to_value(request).expect("json");
    assert!(json.get("servers").is_none(), "{json}");

    let s = inside(remote_move("mail.contoso.com", user, "pw", ""))
        .reduce(Action::SetServers(" ex01.contoso.local, 10.0.0.12 ".into()));
    let json = serde_json::to_value(s.form.request().expect("valid")).expect("json");
    assert_eq!(json["servers"], "ex01.contoso.local, 10.0.0.12");
    assert!(json.get("agent_target").is_none(), "{json}");
    let reopened = inside(Rc::<State>::default()).reduce(Action::Reopen(s.form.fragment()));
    assert_eq!(reopened.form.servers, "ex01.contoso.local, 10.0.0.12");
    let bad = s.reduce(Action::SetServers("ex01 ex02".into()));
    let error = bad.field_error(Field::Servers).expect("an error under the servers");
    assert!(error.contains("cannot contain spaces"), "{error}");

    // A Hybrid Agent's name takes the server it publishes instead.
    let agent = "087f1c2e-8711-4176-ab4f-4b1c1777a350.resource.mailboxmigration.his.msappproxy.net";
    let a = inside(remote_move(agent, user, "pw", "")).reduce(Action::SetAgentTarget("ex01.contoso.local".into()));
    assert!(a.form.shows(Field::AgentTarget) && !a.form.shows(Field::Servers));
    let json = serde_json::to_value(a.form.request().expect("valid")).expect("json");
    assert_eq!(json["agent_target"], "ex01.contoso.local");
    // Another name hides the agent's field: it is not sent, and cannot hold Run back.
    let other = a.reduce(Action::SetRemoteServer("mail.contoso.com".into()));
    let json = serde_json::to_value(other.form.request().expect("valid")).expect("json");
    assert!(json.get("agent_target").is_none(), "{json}");
}

#[test]
fn a_pasted_error_prefills_the_wizard_without_a_password_or_marks() {
    let s = Rc::<State>::default().reduce(Action::SetPassword(Password::new("typed-1")));
    let s = s.reduce(Action::Paste);
    assert!(s.position.pasting);
    let same = s.clone().reduce(Action::Next);
    assert_eq!(
        (same.position.step, same.position.pasting),
        (Step::Kind, true),
        "Next does not leave the paste box"
    );
    let draft: DiagnoseRequest = serde_json::from_value(
        serde_json::json!({"mode": "remote_move", "remote_server": "owa.domain.com", "user": ""}),
    )
    .expect("draft");
    let p = s.reduce(Action::Prefill(draft));
    assert_eq!((p.position.step, p.position.pasting), (Step::Details, false));
    assert_eq!(
        (p.form.mode, p.form.remote_server.as_str()),
        (Mode::RemoteMove, "owa.domain.com")
    );
    assert_eq!(
        p.form.password.expose(),
        "typed-1",
        "a password already typed stays; none comes from the paste"
    );
    assert_eq!(p.form.password_filled, 0, "the password input is left alone");
    assert!(p.form.touched.is_empty(), "no message before the user types");
    let k = p.reduce(Action::Back).reduce(Action::SetKind(Kind::Host));
    assert!(!k.position.pasting);
}

/// The relay serving the page says about itself that it compares with `compare_with` (or with none).
fn relay_comparing_with(s: Rc<State>, compare_with: Option<&str>) -> Rc<State> {
    s.reduce(Action::Info(migcheck_shared::RelayInfo {
        version: "0".into(),
        egress: "public: internet addresses only".into(),
        inside: false,
        demos: Vec::new(),
        modes: Vec::new(),
        compare_with: compare_with.map(Into::into),
    }))
}

const OUTSIDE_RELAY: &str = "https://migcheck.example.net";

/// The query of the run, as `api` builds it from the form, written out.
fn path(s: &State) -> String {
    let query: Vec<String> = crate::api::diagnose_query(s.form.compare())
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    match query.as_slice() {
        [] => "/api/v1/diagnose".into(),
        _ => format!("/api/v1/diagnose?{}", query.join("&")),
    }
}

/// Issue 23: the comparison is asked for only when the relay offers one and the box is ticked; the query
/// holds two flags and nothing typed; the request body is the same either way.
#[test]
fn the_comparison_is_asked_only_when_offered_and_ticked() {
    let typed = autodiscover("alice@contoso.com", "CONTOSO\\alice", "Sup3r-secret!");
    let body = typed.form.request();
    // A relay without --compare-with: nothing offered, a tick (from an older state) asks for nothing.
    let plain = relay_comparing_with(typed.clone(), None).reduce(Action::SetCompare(true));
    assert_eq!(plain.form.compare_with, None);
    assert_eq!(plain.form.compare(), None);
    assert_eq!(path(&plain), "/api/v1/diagnose");
    // Offered: unticked by default.
    let offered = relay_comparing_with(typed, Some(OUTSIDE_RELAY));
    assert_eq!(offered.form.compare_with.as_deref(), Some(OUTSIDE_RELAY));
    assert_eq!((offered.form.compare, offered.form.send_password), (false, false));
    assert_eq!(path(&offered), "/api/v1/diagnose");
    let ticked = offered.reduce(Action::SetCompare(true));
    assert_eq!(ticked.form.compare(), Some(Compare { send_password: false }));
    assert_eq!(path(&ticked), "/api/v1/diagnose?compare=outside");
    assert_eq!(ticked.form.request(), body, "the body does not change");
    let unticked = ticked.reduce(Action::SetCompare(false));
    assert_eq!(path(&unticked), "/api/v1/diagnose");
}

/// The password goes to the outside relay only with the second box ticked, and never in the URL.
#[test]
fn the_password_goes_outside_only_with_the_second_box() {
    let secret = "Sup3r-secret!";
    let s = relay_comparing_with(
        remote_move("mail.contoso.com", "CONTOSO\\mig", secret, ""),
        Some(OUTSIDE_RELAY),
    );
    // The second box alone asks for nothing: it is shown only beside the first.
    let alone = s.clone().reduce(Action::SetSendPassword(true));
    assert_eq!(alone.form.compare(), None);
    let both = s.reduce(Action::SetCompare(true)).reduce(Action::SetSendPassword(true));
    assert_eq!(both.form.compare(), Some(Compare { send_password: true }));
    assert_eq!(path(&both), "/api/v1/diagnose?compare=outside&send_password=true");
    assert!(!path(&both).contains(secret));
    assert!(!format!("{both:?}").contains(secret));
    let back = both.clone().reduce(Action::SetSendPassword(false));
    assert_eq!(path(&back), "/api/v1/diagnose?compare=outside");
    // Unticking the comparison takes the consent with it: ticked again, the second box starts unticked.
    let again = both.reduce(Action::SetCompare(false)).reduce(Action::SetCompare(true));
    assert!(!again.form.send_password);
    assert_eq!(path(&again), "/api/v1/diagnose?compare=outside");
}

/// The host mode has no password: the second box means nothing there, and consent given in another mode
/// does not survive a change of mode (a demo's or a pasted error's included).
#[test]
fn the_second_box_is_irrelevant_in_the_host_mode_and_reset_by_another_mode() {
    let host = relay_comparing_with(Rc::<State>::default(), Some(OUTSIDE_RELAY))
        .reduce(Action::SetMode(Mode::Host))
        .reduce(Action::SetHost("mail.contoso.com".into()))
        .reduce(Action::SetCompare(true))
        .reduce(Action::SetSendPassword(true));
    assert_eq!(host.form.compare(), Some(Compare { send_password: false }));
    assert_eq!(path(&host), "/api/v1/diagnose?compare=outside");
    let consented = relay_comparing_with(autodiscover("alice@contoso.com", "", "pw"), Some(OUTSIDE_RELAY))
        .reduce(Action::SetCompare(true))
        .reduce(Action::SetSendPassword(true));
    assert_eq!(consented.form.compare(), Some(Compare { send_password: true }));
    // The same mode chosen again (the wizard's first answer unchanged) keeps it.
    let same = consented.clone().reduce(Action::SetKind(Kind::Staged));
    assert_eq!(same.form.compare(), Some(Compare { send_password: true }));
    for other in [
        consented.clone().reduce(Action::SetMode(Mode::Host)),
        consented.clone().reduce(Action::SetMode(Mode::OutlookAnywhere)),
        consented.clone().reduce(Action::SetKind(Kind::RemoteMove)),
    ] {
        assert!(!other.form.send_password, "{:?}", other.form.mode);
        assert!(other.form.compare, "the comparison itself stays ticked");
        let back = other.reduce(Action::SetMode(Mode::Autodiscover));
        assert_eq!(
            back.form.compare(),
            Some(Compare { send_password: false }),
            "asked again"
        );
    }
    let demo: DiagnoseRequest = serde_json::from_value(serde_json::json!({
        "mode": "remote_move", "remote_server": "ex01.demo.test", "user": "demo\\mig", "password": "lab-pw",
    }))
    .expect("request");
    let filled = consented.reduce(Action::Fill(demo));
    assert_eq!(filled.form.compare(), Some(Compare { send_password: false }));
}
