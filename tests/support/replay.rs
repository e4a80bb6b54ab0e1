//! A local stand-in that answers CloudFormation's query API with canned bodies, for responses
//! the emulator cannot produce. Bound to 127.0.0.1; it records every request.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// A request's form parameters.
pub type Request = HashMap<String, String>;

/// What to answer: an HTTP status and an XML body.
pub type Answer = (u16, String);

type Route = dyn Fn(&Request) -> Answer + Send + Sync;

pub struct Replay {
    pub endpoint: String,
    pub requests: Arc<Mutex<Vec<Request>>>,
}

impl Replay {
    pub fn start(route: impl Fn(&Request) -> Answer + Send + Sync + 'static) -> Replay {
        Replay::serve_with(route, true)
    }

    /// A replay whose scenario answers STS too (an endpoint without STS, say).
    pub fn start_without_sts(route: impl Fn(&Request) -> Answer + Send + Sync + 'static) -> Replay {
        Replay::serve_with(route, false)
    }

    fn serve_with(
        route: impl Fn(&Request) -> Answer + Send + Sync + 'static,
        answer_sts: bool,
    ) -> Replay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&requests);
        let route: Arc<Route> = Arc::new(route);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = Arc::clone(&log);
                let route = Arc::clone(&route);
                std::thread::spawn(move || serve(stream, route.as_ref(), &log, answer_sts));
            }
        });
        Replay { endpoint, requests }
    }

    pub fn actions(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .map(|r| r["Action"].clone())
            .collect()
    }
}

fn serve(stream: std::net::TcpStream, route: &Route, log: &Mutex<Vec<Request>>, answer_sts: bool) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        // One request: head, then a body of Content-Length bytes.
        let mut length = 0;
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).unwrap();
            if header == "\r\n" || header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap();
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let request: Request = String::from_utf8(body)
            .unwrap()
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (decode(k), decode(v)))
            .collect();
        // Every run asks who it acts as first (STS); that is not the scenario's business.
        if answer_sts && request.get("Action").map(String::as_str) == Some("GetCallerIdentity") {
            let xml = IDENTITY_XML;
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{xml}",
                xml.len()
            );
            if writer.write_all(response.as_bytes()).is_err() {
                return;
            }
            continue;
        }
        let (status, xml) = route(&request);
        log.lock().unwrap().push(request);
        let response = format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{xml}",
            if status == 200 { "OK" } else { "Bad Request" },
            xml.len()
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

const IDENTITY_XML: &str = "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/replay</Arn><UserId>AIDAREPLAY</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>0</RequestId></ResponseMetadata></GetCallerIdentityResponse>";

fn decode(s: &str) -> String {
    let bytes = s.replace('+', " ").into_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// A recorded response (as an SDK prints it, JSON) in CloudFormation's query-protocol XML, the
/// form it has on the wire.
pub fn query_xml(action: &str, result: &serde_json::Value) -> String {
    let mut body = String::new();
    element_content(result, &mut body);
    format!(
        "<{action}Response xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><{action}Result>{body}</{action}Result><ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata></{action}Response>"
    )
}

/// Fields the API returns as JSON text (the recordings show them parsed).
const JSON_TEXT_FIELDS: &[&str] = &["BeforeContext", "AfterContext", "ResourceProperties"];

fn element_content(value: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                out.push_str(&format!("<{key}>"));
                match v {
                    Value::Array(items) => {
                        for item in items {
                            out.push_str("<member>");
                            element_content(item, out);
                            out.push_str("</member>");
                        }
                    }
                    Value::Object(_) if JSON_TEXT_FIELDS.contains(&key.as_str()) => {
                        out.push_str(&escape(&v.to_string()))
                    }
                    other => element_content(other, out),
                }
                out.push_str(&format!("</{key}>"));
            }
        }
        Value::String(s) => out.push_str(&escape(s)),
        Value::Null => {}
        other => out.push_str(&other.to_string()),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// CloudFormation's error answer.
pub fn error_xml(code: &str, message: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{}</Message></Error><RequestId>0</RequestId></ErrorResponse>",
        escape(message)
    )
}
