//! Every problem, walked: its words are whole, its fix is there and filled in.

use super::*;
use crate::request::AuthMethod;

const HOST: &str = "mail.contoso.com";
const USER: &str = "CONTOSO\\migadmin";
const MAILBOX: &str = "adele@contoso.com";
const SOAP_URL: &str = "https://autodiscover.contoso.com/autodiscover/autodiscover.svc";

fn s(text: &str) -> String {
    text.to_string()
}

/// A refusal of Extended Protection, as a diagnosis fills it.
fn binding_refused(url: &str, shown_by: BindingEvidence) -> BindingRefused {
    BindingRefused {
        url: s(url),
        host: s(HOST),
        user: s(USER),
        thumbprint: s("3B7E0E8C2F4A6D1E9B5C7A8F0D2E4C6B8A1F3D5E"),
        shown_by,
    }
}

fn intermediate() -> ChainPosition {
    ChainPosition::Intermediate {
        subject: s("CN=Contoso Issuing CA"),
    }
}

/// One of each variant, with values as a real diagnosis would fill them.
fn examples() -> Vec<Problem> {
    use AutodiscoverProblem as A;
    use EwsProblem as E;
    use MapiProblem as M;
    use MrsProblem as R;
    use OutlookAnywhereProblem as O;
    use ReachProblem as N;
    use TlsProblem as T;
    use VersionProblem as V;
    let url = s("https://mail.contoso.com/EWS/Exchange.asmx");
    let mrs = s("https://mail.contoso.com/EWS/mrsproxy.svc");
    let mapi = s("https://mail.contoso.com/mapi/emsmdb/?MailboxId=x@contoso.com");
    let at = s("ex01.contoso.com:6001");
    let error = s("mail.contoso.com at 203.0.113.7:443 refused the connection: nothing listens on port 443");
    vec![
        N::NoAddress {
            host: s(HOST),
            error: s("mail.contoso.com does not exist in DNS"),
        }
        .into(),
        N::Refused {
            host: s(HOST),
            addr: s("10.0.0.5:443"),
            refusal: s("a private address (RFC 1918)"),
        }
        .into(),
        N::ConnectionRefused {
            host: s(HOST),
            port: 443,
            error: error.clone(),
        }
        .into(),
        N::ConnectTimeout {
            host: s(HOST),
            port: 443,
            error: error.clone(),
        }
        .into(),
        N::ConnectFailed {
            host: s(HOST),
            port: 443,
            error: error.clone(),
        }
        .into(),
        N::NotTls {
            host: s(HOST),
            port: 443,
        }
        .into(),
        N::TlsTimeout {
            host: s(HOST),
            port: 443,
            error: error.clone(),
        }
        .into(),
        N::TlsFailed {
            host: s(HOST),
            port: 443,
            error: error.clone(),
        }
        .into(),
        T::OldTlsOnly { host: s(HOST) }.into(),
        T::NoExchangeOnlineSuite {
            host: s(HOST),
            suite: s("TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"),
        }
        .into(),
        T::Unreadable {
            host: s(HOST),
            why: s("a malformed certificate"),
        }
        .into(),
        T::Unusable {
            host: s(HOST),
            why: s("BadDer"),
        }
        .into(),
        T::SelfSigned { host: s(HOST) }.into(),
        T::IntermediateMissing {
            host: s(HOST),
            issuer: s("CN=Contoso Issuing CA"),
        }
        .into(),
        T::PrivateCa {
            host: s(HOST),
            issuer: s("CN=Contoso Root"),
        }
        .into(),
        T::PrivateRoot {
            host: s(HOST),
            root: s("CN=Contoso Root"),
            through: PrivateTrust::CaFile,
            vantage: Vantage::Internet,
        }
        .into(),
        T::PrivateRoot {
            host: s(HOST),
            root: s("CN=Contoso Root"),
            through: PrivateTrust::SystemStore,
            vantage: Vantage::Inside,
        }
        .into(),
        T::ExtraCertificate {
            host: s(HOST),
            subject: s("CN=AddTrust External CA Root"),
            thumbprint: s("02FAF3E291435468607857694DF5E45B68851868"),
            flaw: ExtraFlaw::Expired {
                date: s("2020-05-30"),
                days: 2000,
            },
        }
        .into(),
        T::ExtraCertificate {
            host: s(HOST),
            subject: s("CN=Contoso Old Issuing CA"),
            thumbprint: s("0123456789ABCDEF0123456789ABCDEF01234567"),
            flaw: ExtraFlaw::Sha1 {
                algorithm: s("sha1WithRSAEncryption"),
            },
        }
        .into(),
        T::Untrusted {
            host: s(HOST),
            why: s("a signature in the chain does not verify with its issuer's key"),
        }
        .into(),
        T::Expired {
            host: s(HOST),
            which: ChainPosition::Leaf,
            date: s("2026-01-01"),
            days: 3,
        }
        .into(),
        T::Expired {
            host: s(HOST),
            which: intermediate(),
            date: s("2026-01-01"),
            days: 3,
        }
        .into(),
        T::NotYetValid {
            host: s(HOST),
            which: ChainPosition::Leaf,
            date: s("2027-01-01"),
            days: 20,
        }
        .into(),
        T::ExpiresSoon {
            host: s(HOST),
            which: intermediate(),
            date: s("2027-01-01"),
            days: 20,
        }
        .into(),
        T::CommonNameOnly { host: s(HOST) }.into(),
        T::NameMismatch {
            host: s(HOST),
            names: s("owa.contoso.com"),
            wildcard: Some(s("*.contoso.com")),
        }
        .into(),
        T::WeakKey {
            host: s(HOST),
            which: ChainPosition::Leaf,
            bits: 1024,
        }
        .into(),
        T::Sha1Signature {
            host: s(HOST),
            which: intermediate(),
            algorithm: s("sha1WithRSAEncryption"),
        }
        .into(),
        A::RedirectAddrStops {
            address: s(MAILBOX),
            why: s("more than 10 redirectAddr answers"),
        }
        .into(),
        A::PasswordWouldLeave {
            address: s(MAILBOX),
            host: s("autodiscover.fabrikam.com"),
            home: s("contoso.com"),
            domain: s("contoso.com"),
        }
        .into(),
        A::NoCandidate {
            address: s(MAILBOX),
            domain: s("contoso.com"),
        }
        .into(),
        A::ErrorAnswer {
            url: s("https://autodiscover.contoso.com/autodiscover/autodiscover.xml"),
            code: s("500"),
            message: s("The email address can't be found."),
        }
        .into(),
        A::CredentialsRefused {
            logon: RefusedLogon::BasicBeyondAscii,
            offered: vec![s("Basic realm=\"autodiscover.contoso.com\""), s("NTLM")],
        }
        .into(),
        A::RedirectsCircle {
            what: s("a redirect loop"),
            path: s("https://a/ → https://b/"),
        }
        .into(),
        A::NoExpr.into(),
        A::ExprNotAHost {
            server: s("mail contoso.com"),
        }
        .into(),
        A::ExprWithoutSsl.into(),
        SoapProblem::NotPublished {
            url: s(SOAP_URL),
            said: s("404 Not Found"),
        }
        .into(),
        SoapProblem::DeviceAnswered {
            url: s(SOAP_URL),
            seen: s("302 Found redirecting to https://mail.contoso.com/login/; Server: nginx"),
        }
        .into(),
        SoapProblem::LogonRefused {
            url: s(SOAP_URL),
            scheme: s("Basic"),
            accepted_at: s("Autodiscover at https://autodiscover.contoso.com/autodiscover/autodiscover.xml (Basic)"),
        }
        .into(),
        SoapProblem::ErrorCode {
            url: s(SOAP_URL),
            code: s("InvalidSetting"),
            message: s("An error message"),
        }
        .into(),
        SoapProblem::InvalidUser {
            url: s(SOAP_URL),
            mailbox: s(MAILBOX),
            message: s("Invalid user 'adele@contoso.com'."),
        }
        .into(),
        SoapProblem::NoExternalEwsUrl {
            url: s(SOAP_URL),
            mailbox: s(MAILBOX),
            internal: Some(s("https://ex01.contoso.local/EWS/Exchange.asmx")),
            code: Some(s("SettingIsNotAvailable")),
        }
        .into(),
        O::ProxyUnreachable {
            proxy: s(HOST),
            error: error.clone(),
        }
        .into(),
        O::MethodNotOffered {
            proxy: s(HOST),
            method: AuthMethod::Basic,
            offered: vec![s("Negotiate"), s("NTLM")],
        }
        .into(),
        O::VerbsBlocked {
            proxy: s(HOST),
            status: 405,
            reason: s("Method Not Allowed"),
            allow: s("GET, POST"),
            server: s("nginx"),
        }
        .into(),
        O::NotPublished { proxy: s(HOST) }.into(),
        O::NotRpcProxy {
            proxy: s(HOST),
            status: 200,
            reason: s("OK"),
        }
        .into(),
        O::CertPrincipalMismatch {
            principal: s("msstd:owa.contoso.com"),
            proxy: s(HOST),
            names: vec![s(HOST)],
            on_certificate: s(HOST),
        }
        .into(),
        O::CredentialsRefused {
            proxy: s(HOST),
            user: s(USER),
            logon: RefusedLogon::NtlmBound,
            domain: Some(s("CONTOSO")),
        }
        .into(),
        O::ChannelBindingRefused(binding_refused(
            "https://mail.contoso.com/rpc/rpcproxy.dll",
            BindingEvidence::PasswordAcceptedAt {
                at: s("Autodiscover at https://autodiscover.contoso.com/autodiscover/autodiscover.xml (Basic)"),
            },
        ))
        .into(),
        O::ServerUnavailable {
            proxy: s(HOST),
            server: s("ex01.contoso.com"),
            endpoint: 6001,
        }
        .into(),
        O::ChannelVerbsBlocked {
            proxy: s(HOST),
            status: 501,
            reason: s("Not Implemented"),
        }
        .into(),
        O::ServerNotAllowed {
            proxy: s(HOST),
            server: s("ex01.contoso.com"),
            endpoint: 6001,
        }
        .into(),
        O::ChannelAnswered {
            proxy: s(HOST),
            status: 500,
            reason: s("Internal Server Error"),
        }
        .into(),
        O::ChannelBroke {
            proxy: s(HOST),
            error: s("203.0.113.7:443 closed the connection while migcheck waited for a PDU"),
        }
        .into(),
        O::ChannelSilent {
            error: s("203.0.113.7:443 sent nothing within 10 s while migcheck waited for CONN/A3"),
        }
        .into(),
        O::ConnectionSilent {
            proxy: s(HOST),
            secs: 10,
            server: s("ex01.contoso.com"),
            endpoint: 6001,
        }
        .into(),
        O::BindAccessDenied {
            name: s("mail store (EMSMDB)"),
            at: at.clone(),
        }
        .into(),
        O::BindRejected {
            name: s("mail store (EMSMDB)"),
            at: at.clone(),
            answer: s("bind_nak: reason not specified"),
        }
        .into(),
        O::BindUnanswered {
            name: s("mail store (EMSMDB)"),
            at,
            error: s("no answer within 10 s"),
        }
        .into(),
        M::Unreachable {
            name: s("mail store"),
            url: mapi.clone(),
            error: error.clone(),
        }
        .into(),
        M::CredentialsRefused {
            url: mapi.clone(),
            logon: RefusedLogon::NtlmBound,
        }
        .into(),
        M::ChannelBindingRefused(binding_refused(
            &mapi,
            BindingEvidence::PasswordAcceptedAt {
                at: s("the RPC proxy mail.contoso.com (Basic)"),
            },
        ))
        .into(),
        M::ResponseCode {
            url: mapi.clone(),
            status: 200,
            code: s("11"),
            meaning: s("no privilege"),
        }
        .into(),
        M::NotMapi {
            url: mapi,
            status_line: s("200 OK"),
        }
        .into(),
        E::Unreachable {
            url: url.clone(),
            error: error.clone(),
        }
        .into(),
        E::NoUsableScheme {
            url: url.clone(),
            schemes: vec![s("Negotiate")],
        }
        .into(),
        E::NotFound { url: url.clone() }.into(),
        E::Anonymous {
            url: url.clone(),
            status_line: s("200 OK"),
        }
        .into(),
        E::CredentialsRefused {
            url: url.clone(),
            user: s(USER),
            logon: RefusedLogon::Ntlm,
        }
        .into(),
        E::ChannelBindingRefused(binding_refused(&url, BindingEvidence::AcceptedWithout)).into(),
        E::NotEws {
            url: url.clone(),
            status: 200,
            fault: None,
        }
        .into(),
        E::AccessDenied {
            user: s(USER),
            mailbox: s(MAILBOX),
        }
        .into(),
        E::ImpersonateDenied {
            user: s(USER),
            mailbox: s(MAILBOX),
        }
        .into(),
        E::NoSuchMailbox { mailbox: s(MAILBOX) }.into(),
        E::MoveInProgress { mailbox: s(MAILBOX) }.into(),
        E::StoreUnavailable { mailbox: s(MAILBOX) }.into(),
        E::MailboxRefused {
            user: s(USER),
            mailbox: s(MAILBOX),
            answer: s("ErrorItemNotFound"),
            message: Some(s("The specified object was not found in the store.")),
        }
        .into(),
        E::MissingOffPath {
            missing: Box::new(E::NotFound { url: url.clone() }),
            user: s(USER),
            mailbox: Some(s(MAILBOX)),
        }
        .into(),
        E::RequestFault {
            url: url.clone(),
            user: s(USER),
            mailbox: None,
            code: s("ErrorInvalidServerVersion"),
            text: Some(s("The specified server version is invalid.")),
            requested: s("Exchange2007_SP1"),
        }
        .into(),
        R::Unreachable {
            url: mrs.clone(),
            host: s(HOST),
            error,
        }
        .into(),
        R::Off {
            url: mrs.clone(),
            host: s(HOST),
            status_line: s("503 Service Unavailable"),
        }
        .into(),
        R::OffWithCredentials {
            url: mrs.clone(),
            host: s(HOST),
            status_line: s("503 Service Unavailable"),
        }
        .into(),
        R::CredentialsRefused {
            url: mrs.clone(),
            user: s(USER),
            logon: RefusedLogon::Basic,
        }
        .into(),
        R::ChannelBindingRefused(binding_refused(&mrs, BindingEvidence::AcceptedWithout)).into(),
        R::NoWindowsAuth {
            url: mrs.clone(),
            host: s(HOST),
            offered: s("Basic realm=\"mail.contoso.com\""),
        }
        .into(),
        R::DeviceInFront {
            host: s(HOST),
            answers: vec![DeviceAnswer {
                url: s("https://mail.contoso.com/EWS/Exchange.asmx/wssecurity"),
                seen: s("302 Found redirecting to https://mail.contoso.com/login/; Server: nginx; none of Exchange's headers (X-FEServer, X-BEServer, request-id, X-CalculatedBETarget)"),
            }],
        }
        .into(),
        R::LogonCut {
            url: mrs.clone(),
            host: s(HOST),
            user: s("CONTOSO\\migadmin"),
            error: s("connection closed by the server before the answer (after the credentials were sent)"),
        }
        .into(),
        R::ForbiddenAfterLogon {
            url: mrs.clone(),
            host: s(HOST),
            user: s("CONTOSO\\migadmin"),
            status_line: s("403 Forbidden"),
        }
        .into(),
        Problem::OnServer(Box::new(OnServer {
            server: s("ex02.contoso.com"),
            name: s(HOST),
            problem: R::ForbiddenAfterLogon {
                url: mrs.clone(),
                host: s(HOST),
                user: s("CONTOSO\\migadmin"),
                status_line: s("403 Forbidden"),
            }
            .into(),
        })),
        V::Exchange2003 {
            fingerprint: s("/exchange/ answers 401 Unauthorized from Microsoft-IIS/6.0"),
        }
        .into(),
        HybridProblem::OutboundBlocked {
            host: s("login.microsoftonline.com"),
            port: 443,
            purpose: s("registration and sign-in"),
            error: s("login.microsoftonline.com at 20.190.151.7:443 did not answer within 10 s"),
        }
        .into(),
        V::NotASource {
            server: s("Exchange Server 2003 (6.5.7638)"),
            disagreement: vec![],
        }
        .into(),
        V::EndOfSupport {
            server: s("Exchange Server 2016 CU23 (15.1.2507)"),
            date: s("2025-10-14"),
            disagreement: vec![
                s("X-OWA-Version says Exchange Server 2016 CU23 (15.1.2507)"),
                s("EWS ServerVersionInfo says Exchange Server 2019 CU14 (15.2.1544)"),
            ],
        }
        .into(),
        V::SourcesDisagree {
            server: s("Exchange Server 2019 CU14 (15.2.1544)"),
            disagreement: vec![s("X-OWA-Version says Exchange Server 2019 CU14 (15.2.1544)")],
        }
        .into(),
    ]
}

/// How many variants there are: the arms of [`name`], which does not compile until a new variant is
/// named; naming it is the reminder to count it here and to give it an example above.
const VARIANTS: usize = 93;

fn name(p: &Problem) -> &'static str {
    match p {
        Problem::Reach(ReachProblem::NoAddress { .. }) => "Reach::NoAddress",
        Problem::Reach(ReachProblem::Refused { .. }) => "Reach::Refused",
        Problem::Reach(ReachProblem::ConnectionRefused { .. }) => "Reach::ConnectionRefused",
        Problem::Reach(ReachProblem::ConnectTimeout { .. }) => "Reach::ConnectTimeout",
        Problem::Reach(ReachProblem::ConnectFailed { .. }) => "Reach::ConnectFailed",
        Problem::Reach(ReachProblem::NotTls { .. }) => "Reach::NotTls",
        Problem::Reach(ReachProblem::TlsTimeout { .. }) => "Reach::TlsTimeout",
        Problem::Reach(ReachProblem::TlsFailed { .. }) => "Reach::TlsFailed",
        Problem::Tls(TlsProblem::OldTlsOnly { .. }) => "Tls::OldTlsOnly",
        Problem::Tls(TlsProblem::NoExchangeOnlineSuite { .. }) => "Tls::NoExchangeOnlineSuite",
        Problem::Tls(TlsProblem::Unreadable { .. }) => "Tls::Unreadable",
        Problem::Tls(TlsProblem::Unusable { .. }) => "Tls::Unusable",
        Problem::Tls(TlsProblem::SelfSigned { .. }) => "Tls::SelfSigned",
        Problem::Tls(TlsProblem::IntermediateMissing { .. }) => "Tls::IntermediateMissing",
        Problem::Tls(TlsProblem::PrivateCa { .. }) => "Tls::PrivateCa",
        Problem::Tls(TlsProblem::PrivateRoot { .. }) => "Tls::PrivateRoot",
        Problem::Tls(TlsProblem::ExtraCertificate { .. }) => "Tls::ExtraCertificate",
        Problem::Tls(TlsProblem::Untrusted { .. }) => "Tls::Untrusted",
        Problem::Tls(TlsProblem::Expired { .. }) => "Tls::Expired",
        Problem::Tls(TlsProblem::NotYetValid { .. }) => "Tls::NotYetValid",
        Problem::Tls(TlsProblem::ExpiresSoon { .. }) => "Tls::ExpiresSoon",
        Problem::Tls(TlsProblem::CommonNameOnly { .. }) => "Tls::CommonNameOnly",
        Problem::Tls(TlsProblem::NameMismatch { .. }) => "Tls::NameMismatch",
        Problem::Tls(TlsProblem::WeakKey { .. }) => "Tls::WeakKey",
        Problem::Tls(TlsProblem::Sha1Signature { .. }) => "Tls::Sha1Signature",
        Problem::Autodiscover(AutodiscoverProblem::RedirectAddrStops { .. }) => "Autodiscover::RedirectAddrStops",
        Problem::Autodiscover(AutodiscoverProblem::PasswordWouldLeave { .. }) => "Autodiscover::PasswordWouldLeave",
        Problem::Autodiscover(AutodiscoverProblem::NoCandidate { .. }) => "Autodiscover::NoCandidate",
        Problem::Autodiscover(AutodiscoverProblem::ErrorAnswer { .. }) => "Autodiscover::ErrorAnswer",
        Problem::Autodiscover(AutodiscoverProblem::CredentialsRefused { .. }) => "Autodiscover::CredentialsRefused",
        Problem::Autodiscover(AutodiscoverProblem::RedirectsCircle { .. }) => "Autodiscover::RedirectsCircle",
        Problem::Autodiscover(AutodiscoverProblem::NoExpr) => "Autodiscover::NoExpr",
        Problem::Autodiscover(AutodiscoverProblem::ExprNotAHost { .. }) => "Autodiscover::ExprNotAHost",
        Problem::Autodiscover(AutodiscoverProblem::ExprWithoutSsl) => "Autodiscover::ExprWithoutSsl",
        Problem::Autodiscover(AutodiscoverProblem::Soap(SoapProblem::NotPublished { .. })) => "Soap::NotPublished",
        Problem::Autodiscover(AutodiscoverProblem::Soap(SoapProblem::DeviceAnswered { .. })) => "Soap::DeviceAnswered",
        Problem::Autodiscover(AutodiscoverProblem::Soap(SoapProblem::LogonRefused { .. })) => "Soap::LogonRefused",
        Problem::Autodiscover(AutodiscoverProblem::Soap(SoapProblem::ErrorCode { .. })) => "Soap::ErrorCode",
        Problem::Autodiscover(AutodiscoverProblem::Soap(SoapProblem::InvalidUser { .. })) => "Soap::InvalidUser",
        Problem::Autodiscover(AutodiscoverProblem::Soap(SoapProblem::NoExternalEwsUrl { .. })) => {
            "Soap::NoExternalEwsUrl"
        }
        Problem::OutlookAnywhere(OutlookAnywhereProblem::ProxyUnreachable { .. }) => {
            "OutlookAnywhere::ProxyUnreachable"
        }
        Problem::OutlookAnywhere(OutlookAnywhereProblem::MethodNotOffered { .. }) => {
            "OutlookAnywhere::MethodNotOffered"
        }
        Problem::OutlookAnywhere(OutlookAnywhereProblem::VerbsBlocked { .. }) => "OutlookAnywhere::VerbsBlocked",
        Problem::OutlookAnywhere(OutlookAnywhereProblem::NotPublished { .. }) => "OutlookAnywhere::NotPublished",
        Problem::OutlookAnywhere(OutlookAnywhereProblem::NotRpcProxy { .. }) => "OutlookAnywhere::NotRpcProxy",
        Problem::OutlookAnywhere(OutlookAnywhereProblem::CertPrincipalMismatch { .. }) => {
            "OutlookAnywhere::CertPrincipalMismatch"
        }
        Problem::OutlookAnywhere(OutlookAnywhereProblem::CredentialsRefused { .. }) => {
            "OutlookAnywhere::CredentialsRefused"
        }
        Problem::OutlookAnywhere(OutlookAnywhereProblem::ChannelBindingRefused(_)) => {
            "OutlookAnywhere::ChannelBindingRefused"
        }
        Problem::OutlookAnywhere(OutlookAnywhereProblem::ServerUnavailable { .. }) => {
            "OutlookAnywhere::ServerUnavailable"
        }
        Problem::OutlookAnywhere(OutlookAnywhereProblem::ChannelVerbsBlocked { .. }) => {
            "OutlookAnywhere::ChannelVerbsBlocked"
        }
        Problem::OutlookAnywhere(OutlookAnywhereProblem::ServerNotAllowed { .. }) => {
            "OutlookAnywhere::ServerNotAllowed"
        }
        Problem::OutlookAnywhere(OutlookAnywhereProblem::ChannelAnswered { .. }) => "OutlookAnywhere::ChannelAnswered",
        Problem::OutlookAnywhere(OutlookAnywhereProblem::ChannelBroke { .. }) => "OutlookAnywhere::ChannelBroke",
        Problem::OutlookAnywhere(OutlookAnywhereProblem::ChannelSilent { .. }) => "OutlookAnywhere::ChannelSilent",
        Problem::OutlookAnywhere(OutlookAnywhereProblem::ConnectionSilent { .. }) => {
            "OutlookAnywhere::ConnectionSilent"
        }
        Problem::OutlookAnywhere(OutlookAnywhereProblem::BindAccessDenied { .. }) => {
            "OutlookAnywhere::BindAccessDenied"
        }
        Problem::OutlookAnywhere(OutlookAnywhereProblem::BindRejected { .. }) => "OutlookAnywhere::BindRejected",
        Problem::OutlookAnywhere(OutlookAnywhereProblem::BindUnanswered { .. }) => "OutlookAnywhere::BindUnanswered",
        Problem::Mapi(MapiProblem::Unreachable { .. }) => "Mapi::Unreachable",
        Problem::Mapi(MapiProblem::CredentialsRefused { .. }) => "Mapi::CredentialsRefused",
        Problem::Mapi(MapiProblem::ChannelBindingRefused(_)) => "Mapi::ChannelBindingRefused",
        Problem::Mapi(MapiProblem::ResponseCode { .. }) => "Mapi::ResponseCode",
        Problem::Mapi(MapiProblem::NotMapi { .. }) => "Mapi::NotMapi",
        Problem::Ews(EwsProblem::Unreachable { .. }) => "Ews::Unreachable",
        Problem::Ews(EwsProblem::NoUsableScheme { .. }) => "Ews::NoUsableScheme",
        Problem::Ews(EwsProblem::NotFound { .. }) => "Ews::NotFound",
        Problem::Ews(EwsProblem::Anonymous { .. }) => "Ews::Anonymous",
        Problem::Ews(EwsProblem::CredentialsRefused { .. }) => "Ews::CredentialsRefused",
        Problem::Ews(EwsProblem::ChannelBindingRefused(_)) => "Ews::ChannelBindingRefused",
        Problem::Ews(EwsProblem::NotEws { .. }) => "Ews::NotEws",
        Problem::Ews(EwsProblem::AccessDenied { .. }) => "Ews::AccessDenied",
        Problem::Ews(EwsProblem::ImpersonateDenied { .. }) => "Ews::ImpersonateDenied",
        Problem::Ews(EwsProblem::NoSuchMailbox { .. }) => "Ews::NoSuchMailbox",
        Problem::Ews(EwsProblem::MoveInProgress { .. }) => "Ews::MoveInProgress",
        Problem::Ews(EwsProblem::StoreUnavailable { .. }) => "Ews::StoreUnavailable",
        Problem::Ews(EwsProblem::MailboxRefused { .. }) => "Ews::MailboxRefused",
        Problem::Ews(EwsProblem::MissingOffPath { .. }) => "Ews::MissingOffPath",
        Problem::Ews(EwsProblem::RequestFault { .. }) => "Ews::RequestFault",
        Problem::Hybrid(HybridProblem::OutboundBlocked { .. }) => "Hybrid::OutboundBlocked",
        Problem::Mrs(MrsProblem::Unreachable { .. }) => "Mrs::Unreachable",
        Problem::Mrs(MrsProblem::Off { .. }) => "Mrs::Off",
        Problem::Mrs(MrsProblem::OffWithCredentials { .. }) => "Mrs::OffWithCredentials",
        Problem::Mrs(MrsProblem::CredentialsRefused { .. }) => "Mrs::CredentialsRefused",
        Problem::Mrs(MrsProblem::ChannelBindingRefused(_)) => "Mrs::ChannelBindingRefused",
        Problem::Mrs(MrsProblem::NoWindowsAuth { .. }) => "Mrs::NoWindowsAuth",
        Problem::Mrs(MrsProblem::DeviceInFront { .. }) => "Mrs::DeviceInFront",
        Problem::Mrs(MrsProblem::ForbiddenAfterLogon { .. }) => "Mrs::ForbiddenAfterLogon",
        Problem::Mrs(MrsProblem::LogonCut { .. }) => "Mrs::LogonCut",
        Problem::Version(VersionProblem::Exchange2003 { .. }) => "Version::Exchange2003",
        Problem::Version(VersionProblem::NotASource { .. }) => "Version::NotASource",
        Problem::Version(VersionProblem::EndOfSupport { .. }) => "Version::EndOfSupport",
        Problem::Version(VersionProblem::SourcesDisagree { .. }) => "Version::SourcesDisagree",
        Problem::OnServer(_) => "OnServer",
    }
}

#[test]
fn every_variant_has_an_example() {
    let mut names: Vec<&str> = examples().iter().map(name).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), VARIANTS, "give every variant an example: {names:?}");
}

/// ALL-CAPS template tokens that the KB fills in (`DOMAIN\user` is the name form, not a token).
fn unfilled(text: &str) -> Option<String> {
    let words = text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '\\' || c == '_'));
    for word in words {
        if matches!(word, "HOST" | "DOMAIN" | "MAILBOX" | "USER" | "NAME") {
            return Some(word.to_string());
        }
    }
    // A format argument left in a literal: `{host}`.
    text.match_indices('{')
        .map(|(i, _)| &text[i + 1..])
        .find(|rest| {
            let ident: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            !ident.is_empty() && rest[ident.len()..].starts_with('}')
        })
        .map(|rest| rest.chars().take(20).collect())
}

#[test]
fn every_problem_has_whole_words_and_a_filled_fix() {
    for problem in examples() {
        let summary = problem.summary();
        let fix = problem.fix();
        assert!(summary.ends_with('.'), "{problem:?}: {summary}");
        assert!(!summary.contains(".."), "{problem:?}: {summary}");
        assert_eq!(summary.trim(), summary, "{problem:?}");
        assert!(!fix.trim().is_empty(), "{problem:?} has no fix");
        for text in [&summary, &fix] {
            assert_eq!(unfilled(text), None, "{problem:?}: {text}");
        }
        // Prose is in comments so the fix stays runnable: no line is an English sentence on its own.
        for line in fix.lines() {
            let first = line.split_whitespace().next().unwrap_or("#");
            assert!(
                first.starts_with('#')
                    || first.starts_with('$')
                    || first.contains('-')
                    || first.starts_with(".\\")
                    || first == "iisreset",
                "{problem:?}: a fix line that is neither a comment nor a command: {line}"
            );
        }
    }
}

#[test]
fn causes_steps_and_severities_follow_the_kb() {
    for problem in examples() {
        let step = problem.kb_step();
        match &problem {
            Problem::Reach(_) | Problem::Tls(_) => assert_eq!(step, Some(KbStep::Certificate)),
            Problem::Hybrid(_) => {
                assert_eq!(step, Some(KbStep::Certificate));
                assert_eq!(problem.cause(), Cause::Network);
            }
            Problem::Autodiscover(_) => assert_eq!(step, Some(KbStep::Autodiscover)),
            Problem::OutlookAnywhere(_) | Problem::Mapi(_) | Problem::Mrs(_) => {
                assert_eq!(step, Some(KbStep::OutlookAnywhere))
            }
            Problem::Ews(_) => assert_eq!(step, Some(KbStep::Permissions)),
            Problem::Version(_) => {
                assert_eq!(step, None);
                assert_eq!(problem.cause(), Cause::UnsupportedVersion);
            }
            Problem::OnServer(o) => assert_eq!(step, o.problem.kb_step()),
        }
        if let Problem::Autodiscover(AutodiscoverProblem::Soap(_)) = problem {
            assert_eq!(
                problem.severity(),
                Severity::Warn,
                "SOAP Autodiscover is the hybrid side's, not on the migration's path"
            );
        }
        if let Problem::Mapi(_) = problem {
            assert_eq!(
                problem.severity(),
                Severity::Warn,
                "MAPI over HTTP is not on the migration's path"
            );
        }
    }
    let old_tls: Problem = TlsProblem::OldTlsOnly { host: s(HOST) }.into();
    assert_eq!(
        old_tls.cause(),
        Cause::Network,
        "the KB puts TLS versions under the network cause"
    );
    assert_eq!(Status::from(old_tls.severity()), Status::Fail);
}

#[test]
fn a_server_behind_the_name_is_named_in_the_summary_and_the_fix() {
    let on = |server: &str| {
        Problem::OnServer(Box::new(OnServer {
            server: s(server),
            name: s(HOST),
            problem: MrsProblem::ForbiddenAfterLogon {
                url: s("https://mail.contoso.com/EWS/mrsproxy.svc"),
                host: s(HOST),
                user: s(USER),
                status_line: s("403 Forbidden"),
            }
            .into(),
        }))
    };
    let p = on("ex02.contoso.com");
    assert!(
        p.summary()
            .starts_with("MRS Proxy is off on EX02, one of the servers behind mail.contoso.com: MRS Proxy at"),
        "{}",
        p.summary()
    );
    assert!(
        p.fix().contains(
            "Set-WebServicesVirtualDirectory -Identity \"EX02\\EWS (Default Web Site)\" -MRSProxyEnabled $true"
        ),
        "{}",
        p.fix()
    );
    assert_eq!(p.cause(), Cause::ExternalAccess);
    let by_address = on("10.0.0.12");
    assert!(
        by_address
            .summary()
            .starts_with("MRS Proxy is off on the server at 10.0.0.12, behind mail.contoso.com")
    );
    let tls = Problem::OnServer(Box::new(OnServer {
        server: s("ex02"),
        name: s(HOST),
        problem: TlsProblem::SelfSigned { host: s(HOST) }.into(),
    }));
    assert!(
        tls.summary()
            .starts_with("On ex02, one of the servers behind mail.contoso.com: ")
    );
    assert_eq!(tls.kb_step(), Some(KbStep::Certificate));
}

#[test]
fn fixes_name_the_host_and_its_domain() {
    let fix = Problem::from(TlsProblem::SelfSigned { host: s(HOST) }).fix();
    assert!(fix.starts_with("# Exchange Online trusts only"), "{fix}");
    assert!(
        fix.contains("-DomainName mail.contoso.com,autodiscover.contoso.com"),
        "{fix}"
    );
    let expired = |which| {
        Problem::from(TlsProblem::Expired {
            host: s(HOST),
            which,
            date: s("2026-01-01"),
            days: 3,
        })
        .fix()
    };
    assert!(expired(ChainPosition::Leaf).contains("New-ExchangeCertificate"));
    assert!(expired(intermediate()).contains("install the CA's intermediate certificate"));
    let full_access = Problem::from(EwsProblem::AccessDenied {
        user: s(USER),
        mailbox: s(MAILBOX),
    })
    .fix();
    assert!(
        full_access.contains("Add-MailboxPermission -Identity adele@contoso.com -User CONTOSO\\migadmin"),
        "{full_access}"
    );
}

#[test]
fn a_private_root_fails_from_the_internet_and_warns_from_inside() {
    let private = |vantage| {
        Problem::from(TlsProblem::PrivateRoot {
            host: s(HOST),
            root: s("CN=Contoso Root"),
            through: PrivateTrust::CaFile,
            vantage,
        })
    };
    let outside = private(Vantage::Internet);
    assert_eq!(outside.severity(), Severity::Fail);
    assert_eq!(outside.cause(), Cause::Certificate);
    assert!(
        outside.summary().contains("Exchange Online trusts only public ones"),
        "{}",
        outside.summary()
    );
    assert!(
        outside
            .fix()
            .contains("public certification authorities: get a certificate from one for the names published")
            && outside
                .fix()
                .contains("-DomainName mail.contoso.com,autodiscover.contoso.com"),
        "{}",
        outside.fix()
    );
    let inside = private(Vantage::Inside);
    assert_eq!(inside.severity(), Severity::Warn);
    assert!(
        inside
            .summary()
            .contains("the certificate the internet sees for mail.contoso.com decides"),
        "{}",
        inside.summary()
    );
    assert!(inside.fix().contains("--egress public"), "{}", inside.fix());
}

#[test]
fn an_extra_certificate_is_a_warning_to_remove_it_and_its_subject_cannot_add_a_line() {
    let extra = Problem::from(TlsProblem::ExtraCertificate {
        host: s(HOST),
        subject: s("CN=Old Root\nInvoke-Expression evil"),
        thumbprint: s("02FAF3E291435468607857694DF5E45B68851868"),
        flaw: ExtraFlaw::Expired {
            date: s("2020-05-30"),
            days: 2000,
        },
    });
    assert_eq!(extra.severity(), Severity::Warn);
    assert!(
        extra.summary().contains("remove it from the chain the server sends"),
        "{}",
        extra.summary()
    );
    let fix = extra.fix();
    assert!(
        fix.contains("Where-Object Thumbprint -eq '02FAF3E291435468607857694DF5E45B68851868'"),
        "{fix}"
    );
    assert!(fix.lines().all(|l| !l.starts_with("Invoke-Expression")), "{fix}");
}

#[test]
fn the_method_not_offered_names_the_other_method_when_it_is_there() {
    let summary = |method, offered: &[&str]| {
        Problem::from(OutlookAnywhereProblem::MethodNotOffered {
            proxy: s(HOST),
            method,
            offered: offered.iter().map(|o| s(o)).collect(),
        })
        .summary()
    };
    assert!(
        summary(AuthMethod::Basic, &["NTLM"]).ends_with(
            "(it offers NTLM), so the migration service cannot log on. NTLM is offered: run the migration endpoint with -Authentication NTLM, or offer Basic."
        )
    );
    assert!(
        summary(AuthMethod::Ntlm, &[]).ends_with(
            "(it offers nothing), so the migration service cannot log on. Turn on NTLM authentication for the /rpc virtual directory."
        )
    );
}

#[test]
fn a_refused_logon_says_how_it_was_made() {
    let ews = |logon| {
        Problem::from(EwsProblem::CredentialsRefused {
            url: s("https://mail.contoso.com/EWS/Exchange.asmx"),
            user: s(USER),
            logon,
        })
    };
    let plain = ews(RefusedLogon::Basic);
    assert!(
        plain
            .summary()
            .ends_with("rejects the credentials of CONTOSO\\migadmin (Basic).")
    );
    assert!(!plain.fix().contains("ASCII"));
    let beyond = ews(RefusedLogon::BasicBeyondAscii);
    assert!(
        beyond.summary().contains(
            "The password has characters outside ASCII: migcheck sends Basic credentials as UTF-8, and IIS may decode them in the server's code page instead"
        ),
        "{}",
        beyond.summary()
    );
    assert!(
        beyond.fix().contains("a password of ASCII characters only"),
        "{}",
        beyond.fix()
    );
    let bound = ews(RefusedLogon::NtlmBound);
    assert!(
        bound
            .summary()
            .contains("If the password is right, Extended Protection may be the reason"),
        "{}",
        bound.summary()
    );
    assert!(bound.fix().contains("-ShowExtendedProtection"), "{}", bound.fix());
    assert!(!ews(RefusedLogon::Ntlm).summary().contains("Extended Protection"));
    assert_eq!(
        bound.cause(),
        Cause::Permissions,
        "still the credentials until shown otherwise"
    );
}

#[test]
fn extended_protection_names_the_device_and_microsofts_fix() {
    let allow = Problem::from(EwsProblem::ChannelBindingRefused(binding_refused(
        "https://mail.contoso.com/EWS/Exchange.asmx",
        BindingEvidence::AcceptedWithout,
    )));
    assert_eq!(allow.cause(), Cause::ExternalAccess);
    assert_eq!(
        allow.severity(),
        Severity::Warn,
        "Allow lets clients without the binding in"
    );
    let summary = allow.summary();
    for words in [
        "accepts the same logon without it",
        "Extended Protection",
        "load balancer or firewall",
        "thumbprint 3B7E0E8C2F4A6D1E9B5C7A8F0D2E4C6B8A1F3D5E",
    ] {
        assert!(summary.contains(words), "{words}: {summary}");
    }
    let fix = allow.fix();
    for words in [
        "the SAME certificate",
        "SSL offloading is not supported with Extended Protection",
        "https://learn.microsoft.com/exchange/plan-and-deploy/post-installation-tasks/security-best-practices/exchange-extended-protection",
        "-SSLOffloading $false",
        "A load\n# balancer or firewall in front of mail.contoso.com",
    ] {
        assert!(fix.contains(words), "{words}: {fix}");
    }
    let require = Problem::from(OutlookAnywhereProblem::ChannelBindingRefused(binding_refused(
        "https://mail.contoso.com/rpc/rpcproxy.dll",
        BindingEvidence::PasswordAcceptedAt {
            at: s("Autodiscover at https://autodiscover.contoso.com/autodiscover/autodiscover.xml (Basic)"),
        },
    )));
    assert_eq!(Status::from(require.severity()), Status::Fail);
    assert!(
        require
            .summary()
            .contains("yet Autodiscover at https://autodiscover.contoso.com/autodiscover/autodiscover.xml (Basic) accepted the same credentials"),
        "{}",
        require.summary()
    );
}

#[test]
fn exchange_online_suites_are_microsoft_365_s_list() {
    use super::{EXCHANGE_ONLINE_SUITES, SuiteJudgement, exchange_online_lists};
    // What a default Windows Server 2012 R2 picks (its first ECDHE_RSA suite) is on the list ...
    assert!(exchange_online_lists("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"));
    assert!(exchange_online_lists("tls_rsa_with_aes_128_gcm_sha256"));
    // ... DHE and ECDSA suites are not, nor TLS 1.3's.
    assert!(!exchange_online_lists("TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"));
    assert!(!exchange_online_lists("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"));
    assert!(!exchange_online_lists("TLS13_AES_256_GCM_SHA384"));
    assert_eq!(EXCHANGE_ONLINE_SUITES.len(), 8);
    assert_eq!(
        SuiteJudgement::Listed.sentence().as_deref(),
        Some("Exchange Online can connect with this suite.")
    );
    let chose = SuiteJudgement::ChoseListed {
        suite: s("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"),
    };
    assert!(
        chose
            .sentence()
            .is_some_and(|t| t.contains("the server chose TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"))
    );
    let none = SuiteJudgement::NoneInCommon {
        answer: s("handshake failure"),
    };
    assert_eq!(none.sentence(), None);
    let warn: Problem = TlsProblem::NoExchangeOnlineSuite {
        host: s(HOST),
        suite: s("TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"),
    }
    .into();
    assert_eq!(Status::from(warn.severity()), Status::Warn);
    assert_eq!(warn.cause(), Cause::Network);
    assert!(warn.fix().contains("Enable-TlsCipherSuite"));
}

#[test]
fn ews_off_the_migrations_path_is_a_warning_with_the_permission_to_check_by_hand() {
    let missing = Problem::from(EwsProblem::MissingOffPath {
        missing: Box::new(EwsProblem::NotFound {
            url: s("https://mail.contoso.com/EWS/Exchange.asmx"),
        }),
        user: s(USER),
        mailbox: Some(s(MAILBOX)),
    });
    assert_eq!(missing.severity(), Severity::Warn);
    assert_eq!(missing.cause(), Cause::Permissions);
    let summary = missing.summary();
    assert!(
        summary.starts_with("There is no EWS at https://mail.contoso.com/EWS/Exchange.asmx (404)"),
        "{summary}"
    );
    assert!(
        summary.contains("does not use EWS, so this does not stop it"),
        "{summary}"
    );
    assert!(
        summary.contains("whether CONTOSO\\migadmin has Full Access to adele@contoso.com was not checked"),
        "{summary}"
    );
    assert!(
        missing
            .fix()
            .contains("Get-MailboxPermission -Identity adele@contoso.com -User CONTOSO\\migadmin"),
        "{}",
        missing.fix()
    );
    let no_mailbox = Problem::from(EwsProblem::MissingOffPath {
        missing: Box::new(EwsProblem::NotFound {
            url: s("https://x/EWS/Exchange.asmx"),
        }),
        user: s(USER),
        mailbox: None,
    });
    assert!(no_mailbox.fix().contains("-Identity <mailbox>"), "{}", no_mailbox.fix());

    // A fault whose code is about the request's version: EWS speaks, the version is named.
    let fault = |code: &str| {
        Problem::from(EwsProblem::RequestFault {
            url: s("https://mail.contoso.com/EWS/Exchange.asmx"),
            user: s(USER),
            mailbox: Some(s(MAILBOX)),
            code: s(code),
            text: Some(s("The specified server version is invalid.")),
            requested: s("Exchange2007_SP1"),
        })
    };
    let version = fault("ErrorInvalidServerVersion");
    assert_eq!(
        (version.severity(), version.cause()),
        (Severity::Warn, Cause::Permissions)
    );
    assert!(
        version.summary().contains(
            "a SOAP fault, ErrorInvalidServerVersion (The specified server version is invalid): it does not accept RequestServerVersion Exchange2007_SP1"
        ),
        "{}",
        version.summary()
    );
    assert!(version.fix().contains("Get-ExchangeServer"), "{}", version.fix());
    assert!(
        fault("ErrorInternalServerError")
            .summary()
            .contains("the server failed the request, not the mailbox"),
        "{}",
        fault("ErrorInternalServerError").summary()
    );
}

/// Issue 19, point 6: a remote move needs a role on premises, not Full Access; the fix of a refused MRS
/// Proxy logon says so, with the name form, while a cutover's permission finding keeps Full Access.
#[test]
fn a_remote_move_asks_for_the_role_and_a_cutover_for_full_access() {
    let refused = Problem::from(MrsProblem::CredentialsRefused {
        url: s("https://mail.contoso.com/EWS/mrsproxy.svc"),
        user: s(USER),
        logon: RefusedLogon::Ntlm,
    });
    let fix = refused.fix();
    assert!(fix.contains("Organization Management or Recipient Management"), "{fix}");
    assert!(
        fix.contains("Add-RoleGroupMember \"Recipient Management\" -Member CONTOSO\\migadmin"),
        "{fix}"
    );
    assert!(fix.contains("DOMAIN\\user, not user@domain"), "{fix}");
    assert!(!fix.contains("FullAccess"), "{fix}");
    let role = remote_move_role(USER);
    assert!(role.starts_with("A remote move needs CONTOSO\\migadmin in the Organization Management or Recipient Management role group on premises, not Full Access"), "{role}");
    let cutover = Problem::from(EwsProblem::AccessDenied {
        user: s(USER),
        mailbox: s(MAILBOX),
    });
    assert!(cutover.fix().contains("-AccessRights FullAccess"), "{}", cutover.fix());
}

/// Issue 19, point 7: the public relay's verdict names the allow list, in one sentence.
#[test]
fn the_hosted_relay_names_exchange_onlines_allow_list_in_one_sentence() {
    let sentence = hosted_relay_allow_list();
    assert!(
        sentence.contains("\"Microsoft 365 URLs and IP address ranges\", Exchange Online, ID 1"),
        "{sentence}"
    );
    assert!(sentence.contains(EXCHANGE_ONLINE_ENDPOINTS_URL), "{sentence}");
    assert!(
        sentence.ends_with(").") && sentence.matches(": ").count() == 1,
        "{sentence}"
    );
}

/// Issue 19, point 4: the Hybrid Agent's name is explained, and what can be checked is named.
#[test]
fn a_hybrid_agent_name_is_explained_with_what_can_be_checked_inside() {
    let name = "087f1c2e-8711-4176-ab4f-4b1c1777a350.resource.mailboxmigration.his.msappproxy.net";
    let said = agent_name(name);
    assert!(
        said.contains("Microsoft's Hybrid Agent") && said.contains("migcheck does not probe it"),
        "{said}"
    );
    let [test, ep] = agent_by_hand(name);
    assert!(test.1.contains(&format!("-RemoteServer '{name}'")), "{}", test.1);
    assert!(ep.1.contains("-ExcludeVirtualDirectories \"EWSFrontEnd\""), "{}", ep.1);
    assert!(AGENT_ENDPOINTS.iter().all(|e| matches!(e.port, 80 | 443)));
    assert!(AGENT_WILDCARDS.contains("*.msappproxy.net"));
}

/// One device in front of several paths of a host is one thing to fix: its problems fold into one, whose
/// sentence names every path (what the device sent said once when it sent the same), in a fixed order.
#[test]
fn one_device_in_front_of_several_paths_is_one_problem() {
    let front = |host: &str, path: &str, seen: &str| -> Problem {
        MrsProblem::DeviceInFront {
            host: host.to_string(),
            answers: vec![DeviceAnswer {
                url: format!("https://{host}{path}"),
                seen: seen.to_string(),
            }],
        }
        .into()
    };
    let login = "302 Found redirecting to https://mail.contoso.com/login/";
    let mut p = front("mail.contoso.com", "/autodiscover/autodiscover.svc", login);
    assert!(p.absorb(&front("mail.contoso.com", "/EWS/mrsproxy.svc", login)));
    assert!(
        p.absorb(&front("mail.contoso.com", "/EWS/mrsproxy.svc", login)),
        "the same path again"
    );
    assert_eq!(
        p.summary(),
        "Something in front of Exchange answered https://mail.contoso.com/EWS/mrsproxy.svc, https://mail.contoso.com/autodiscover/autodiscover.svc instead of Exchange: 302 Found redirecting to https://mail.contoso.com/login/. Exchange Online calls these paths without pre-authentication, so its calls stop at that device."
    );
    assert!(p.absorb(&front(
        "mail.contoso.com",
        "/EWS/Exchange.asmx/wssecurity",
        "403 Forbidden; an HTML page"
    )));
    assert!(
        p.summary().starts_with(
            "Something in front of Exchange answered instead of Exchange at https://mail.contoso.com/EWS/Exchange.asmx/wssecurity (403 Forbidden; an HTML page); https://mail.contoso.com/EWS/mrsproxy.svc (302 Found"
        ),
        "{}",
        p.summary()
    );
    // Another host is another device; another problem is another fix.
    assert!(!p.absorb(&front("owa.contoso.com", "/EWS/mrsproxy.svc", login)));
    let off: Problem = MrsProblem::Off {
        url: "https://mail.contoso.com/EWS/mrsproxy.svc".into(),
        host: "mail.contoso.com".into(),
        status_line: "404 Not Found".into(),
    }
    .into();
    assert!(!p.absorb(&off));
    assert!(!off.clone().absorb(&p));
}
