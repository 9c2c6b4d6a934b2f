//! A fault-injecting HTTP proxy of the test suite's own, on loopback between the binary and
//! the emulator: it throttles, answers 500, drops connections and delays answers on a
//! schedule, and forwards everything else unchanged.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 400 with the `Throttling` error code, as AWS sends when rate limited.
    Throttle,
    /// HTTP 500 `InternalFailure`.
    ServerError,
    /// The connection is reset before any answer.
    Reset,
    /// The request goes through at once; its answer comes this much later.
    Delay(Duration),
}

pub enum Rule {
    /// The first, third, fifth... request of each action gets a fault, taking the list's
    /// faults in turn; the SDK's retry of it goes through.
    Alternate(Vec<Fault>),
    /// Every request of this action gets this fault.
    Always(&'static str, Fault),
}

struct State {
    rule: Rule,
    seen: HashMap<String, usize>,
    next_fault: usize,
    served: Vec<(String, Fault)>,
}

impl State {
    fn decide(&mut self, action: &str) -> Option<Fault> {
        let seen = self.seen.entry(action.to_string()).or_default();
        *seen += 1;
        let fault = match &self.rule {
            Rule::Alternate(faults) if *seen % 2 == 1 => {
                self.next_fault += 1;
                Some(faults[(self.next_fault - 1) % faults.len()])
            }
            Rule::Always(wanted, fault) if *wanted == action => Some(*fault),
            _ => None,
        };
        if let Some(f) = fault {
            self.served.push((action.to_string(), f));
        }
        fault
    }
}

pub struct FaultProxy {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl FaultProxy {
    pub fn start(upstream: &str, rule: Rule) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_string();
        let state = Arc::new(Mutex::new(State { rule, seen: HashMap::new(), next_fault: 0, served: vec![] }));
        let shared = state.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (state, upstream) = (shared.clone(), upstream.clone());
                std::thread::spawn(move || serve(client, &upstream, &state));
            }
        });
        FaultProxy { url, state }
    }

    /// The faults served so far, by action.
    pub fn served(&self) -> Vec<(String, Fault)> {
        self.state.lock().unwrap().served.clone()
    }
}

/// One request per connection: the answer says `Connection: close`, and the client opens a
/// new connection for the next one.
fn serve(mut client: TcpStream, upstream: &str, state: &Mutex<State>) {
    let Some((head, body)) = read_request(&mut client) else { return };
    let action = action_of(&body);
    let fault = state.lock().unwrap().decide(&action);
    match fault {
        Some(Fault::Throttle) => answer(&mut client, "400 Bad Request", "Sender", "Throttling", "Rate exceeded"),
        Some(Fault::ServerError) => answer(
            &mut client,
            "500 Internal Server Error",
            "Receiver",
            "InternalFailure",
            "injected by the test proxy",
        ),
        Some(Fault::Reset) => {
            let _ = socket2::SockRef::from(&client).set_linger(Some(Duration::ZERO));
        }
        Some(Fault::Delay(delay)) => forward(&mut client, upstream, &head, &body, delay),
        None => forward(&mut client, upstream, &head, &body, Duration::ZERO),
    }
}

fn read_request(client: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        let n = client.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(pos) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let length = head
        .lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("content-length")))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = data[head_end..].to_vec();
    while body.len() < length {
        let n = client.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&buf[..n]);
    }
    Some((head, body))
}

/// `Action=DescribeStacks&Version=...` → `DescribeStacks`
fn action_of(body: &[u8]) -> String {
    String::from_utf8_lossy(body).split('&').find_map(|pair| pair.strip_prefix("Action=")).unwrap_or("").to_string()
}

/// Forwards the request, then holds the answer back for `delay`: AWS has acted by the time
/// the client hears of it.
fn forward(client: &mut TcpStream, upstream: &str, head: &str, body: &[u8], delay: Duration) {
    let Ok(mut server) = TcpStream::connect(upstream) else { return };
    let mut request: String = head
        .trim_end()
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    request.push_str("Connection: close\r\n\r\n");
    if server.write_all(request.as_bytes()).and_then(|_| server.write_all(body)).is_err() {
        return;
    }
    let mut response = Vec::new();
    let _ = server.read_to_end(&mut response);
    std::thread::sleep(delay);
    let _ = client.write_all(&response);
}

fn answer(client: &mut TcpStream, status: &str, kind: &str, code: &str, message: &str) {
    let body = format!(
        "<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error>\
         <RequestId>fault-proxy</RequestId></ErrorResponse>"
    );
    let _ = write!(
        client,
        "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}
