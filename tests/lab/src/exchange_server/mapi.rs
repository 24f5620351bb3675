//! MAPI over HTTP ([MS-OXCMAPIHTTP]) on the proxy hosts: only the PING request type (2.2.6: no
//! request body, no response body; meta-tags per 2.2.7 and 3.2.5.3).

use super::http::Request;

/// The build the lab's Exchange reports (Exchange 2016 CU23, like the Autodiscover servers).
pub(crate) const SERVER_APPLICATION: &str = "Exchange/15.01.2507.006";

/// The headers and body of the 200 answer to an authenticated POST on /mapi/emsmdb/ or /mapi/nspi/.
/// X-ResponseCode: 0 for PING; 7 (missing header) without X-RequestType; 5 (invalid request type)
/// for anything else, since the lab serves no MAPI session.
pub(crate) fn answer(req: &Request) -> (Vec<(&'static str, String)>, Vec<u8>) {
    let request_type = req.header("x-requesttype").map(str::trim);
    let code = match request_type {
        Some(t) if t.eq_ignore_ascii_case("ping") => 0,
        Some(_) => 5,
        None => 7,
    };
    let mut headers = vec![
        ("Content-Type", "application/mapi-http".to_string()),
        ("X-RequestType", request_type.unwrap_or("").chars().take(40).collect()),
        ("X-ResponseCode", code.to_string()),
        ("X-ServerApplication", SERVER_APPLICATION.to_string()),
        ("X-PendingPeriod", "15000".to_string()),
    ];
    for name in ["X-RequestId", "X-ClientInfo"] {
        if let Some(v) = req.header(name) {
            let v: String = v.chars().filter(|c| !c.is_control()).take(200).collect();
            headers.push((name, v));
        }
    }
    let start = http_date(time::OffsetDateTime::now_utc());
    let body = format!("PROCESSING\r\nDONE\r\nX-ElapsedTime: 0\r\nX-StartTime: {start}\r\n\r\n");
    (headers, body.into_bytes())
}

/// An HTTP date (IMF-fixdate): `Tue, 03 Jun 2025 09:14:27 GMT`.
fn http_date(t: time::OffsetDateTime) -> String {
    let weekday = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][usize::from(t.weekday().number_days_from_monday())];
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][usize::from(u8::from(t.month()) - 1)];
    format!(
        "{weekday}, {:02} {month} {} {:02}:{:02}:{:02} GMT",
        t.day(),
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}
