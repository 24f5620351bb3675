//! The pages of the web side besides EWS: OWA's redirect and logon page (whose resource paths carry
//! the build), the MRS Proxy endpoint (a WCF service help page, or the 503 of a disabled service),
//! and Exchange 2003's OWA (`/exchange/`, `/exchweb/`). Pure functions: status, headers, body.

use super::ews::escape;
use crate::exchange::owa_path_build;

/// A whole answer.
pub(crate) struct Page {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Page {
    fn html(status: u16, body: String) -> Page {
        Page {
            status,
            headers: vec![("Content-Type", "text/html; charset=utf-8".into())],
            body: body.into_bytes(),
        }
    }
}

/// `/owa/...` of an Exchange 2010+ host (`build`: the OWA version, `a.b.c.d`).
pub(crate) fn owa(host: &str, build: &str, path: &str) -> Page {
    let resources = resource_dir(build);
    if path == "/owa/auth/logon.aspx" {
        return Page::html(200, logon_page(build));
    }
    if path.starts_with(&resources.to_ascii_lowercase()) {
        // The themes: a tiny icon for any resource (what matters is that the path exists).
        return Page {
            status: 200,
            headers: vec![("Content-Type", "image/x-icon".into())],
            body: vec![0, 0, 1, 0, 0, 0],
        };
    }
    let back = format!("https%3a%2f%2f{host}%2fowa%2f");
    Page {
        status: 302,
        headers: vec![
            (
                "Location",
                format!("https://{host}/owa/auth/logon.aspx?url={back}&reason=0"),
            ),
            ("Content-Type", "text/html; charset=utf-8".into()),
        ],
        body: format!(
            "<html><head><title>Object moved</title></head><body><h2>Object moved to <a href=\"https://{host}/owa/auth/logon.aspx?url={back}&amp;reason=0\">here</a>.</h2></body></html>\r\n"
        )
        .into_bytes(),
    }
}

/// Where OWA's themes live: `/owa/auth/15.1.2507` (2013+), `/owa/14.3.513.0` (2010).
fn resource_dir(build: &str) -> String {
    let b = owa_path_build(build);
    if build.starts_with("14.") {
        format!("/owa/{b}")
    } else {
        format!("/owa/auth/{b}")
    }
}

fn logon_page(build: &str) -> String {
    let dir = resource_dir(build);
    let (favicon, css, logo) = if build.starts_with("14.") {
        (
            format!("{dir}/themes/base/favicon.ico"),
            format!("{dir}/themes/base/logon.css"),
            format!("{dir}/themes/base/lgntopl.gif"),
        )
    } else {
        (
            format!("{dir}/themes/resources/favicon.ico"),
            format!("{dir}/themes/resources/logon.css"),
            format!("{dir}/themes/resources/owa_text_blue.png"),
        )
    };
    format!(
        "<!DOCTYPE html>\r\n<html><head><meta http-equiv=\"X-UA-Compatible\" content=\"IE=10\"/>\
         <link rel=\"shortcut icon\" href=\"{favicon}\" type=\"image/x-icon\"/>\
         <link rel=\"stylesheet\" href=\"{css}\"/><title>Outlook</title></head>\
         <body class=\"signInBg\"><form action=\"/owa/auth.owa\" method=\"POST\" name=\"logonForm\">\
         <img src=\"{logo}\" alt=\"Outlook\"/>\
         <input id=\"username\" name=\"username\" type=\"text\"/><input id=\"password\" name=\"password\" type=\"password\"/>\
         <input type=\"hidden\" name=\"destination\" value=\"\"/><input type=\"hidden\" name=\"flags\" value=\"4\"/>\
         </form></body></html>\r\n"
    )
}

/// `/EWS/mrsproxy.svc` for an authenticated caller: WCF's help page when MRS Proxy is on; when it is
/// off, 403 once the caller has signed in (KB 3063913: Exchange Online reports "(403) Forbidden", and the
/// server logs event 1309 with "Exception message: MRS proxy service is disabled"). The page's body is
/// not published: the lab sends that exception message as a short text (modelled), with IIS's and
/// Exchange's headers as on every answer.
pub(crate) fn mrs(host: &str, enabled: bool) -> Page {
    let url = format!("https://{host}/EWS/mrsproxy.svc");
    if enabled {
        return Page::html(200, wcf_help("MRSProxyService", &url));
    }
    Page::html(403, "MRS proxy service is disabled\r\n".to_string())
}

/// The help page WCF writes for a service with metadata publishing on.
pub(crate) fn wcf_help(service: &str, url: &str) -> String {
    let url = escape(url);
    format!(
        "<HTML lang=\"en\"><HEAD><link rel=\"alternate\" type=\"text/xml\" href=\"{url}?disco\"/>\
         <STYLE type=\"text/css\">#content{{ FONT-SIZE: 0.7em; PADDING-BOTTOM: 2em; MARGIN-LEFT: 30px}}</STYLE>\
         <TITLE>{service} Service</TITLE></HEAD><BODY><DIV id=\"content\" role=\"main\">\
         <h1 class=\"heading1\">{service} Service</h1><BR/><P class=\"intro\">You have created a service.<P class='intro'>\
         To test this service, you will need to create a client and use it to call the service. You can do this using the svcutil.exe tool from the command line with the following syntax:</P> \
         <BR/><PRE>svcutil.exe <A HREF=\"{url}?wsdl\">{url}?wsdl</A></PRE></P></DIV></BODY></HTML>"
    )
}

/// Exchange 2003's OWA logon form (forms-based authentication).
pub(crate) fn owa2003_logon() -> Page {
    Page::html(
        200,
        "<HTML><HEAD><TITLE>Microsoft Outlook Web Access</TITLE>\
         <link rel=\"stylesheet\" type=\"text/css\" href=\"/exchweb/6.5.7638.1/controls/logon.css\">\
         </HEAD><BODY><FORM action=\"/exchweb/bin/auth/owaauth.dll\" method=\"POST\" name=\"logonForm\">\
         <IMG src=\"/exchweb/img/logon_microsoft.gif\" alt=\"Microsoft\"><IMG src=\"/exchweb/img/logon_owa.gif\" alt=\"Outlook Web Access\">\
         <INPUT id=\"username\" name=\"username\" type=\"text\"><INPUT id=\"password\" name=\"password\" type=\"password\">\
         <INPUT type=\"hidden\" name=\"destination\" value=\"\"><INPUT type=\"hidden\" name=\"flags\" value=\"0\">\
         </FORM></BODY></HTML>\r\n"
            .to_string(),
    )
}

/// Exchange 2003's `/exchange/` once authenticated: the OWA frame set.
pub(crate) fn owa2003_mailbox(user: &str) -> Page {
    Page::html(
        200,
        format!(
            "<HTML><HEAD><TITLE>Microsoft Outlook Web Access</TITLE><BASE href=\"/exchange/{}/\"></HEAD>\
             <FRAMESET cols=\"180,*\"><FRAME name=\"navbar\" src=\"/exchweb/bin/nav.asp\">\
             <FRAME name=\"viewer\" src=\"Inbox/?Cmd=contents\"></FRAMESET></HTML>\r\n",
            escape(user.split('@').next().unwrap_or(user))
        ),
    )
}
