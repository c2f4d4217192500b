//! Shared by the notification tests: a webhook receiver (a small axum server that keeps every
//! request and can fail on purpose) and a local SMTP server (Python's aiosmtpd on a free port,
//! its messages read back by Python's e-mail parser).

#![allow(dead_code)]

use std::net::TcpListener as StdListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::{ci, say};

pub const SECRET: &str = "the-portal-shares-this-secret";

// ------------------------------------------------------------------ a webhook receiver

#[derive(Debug, Clone)]
pub struct Hit {
    pub key: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
    pub status: u16,
}

/// Answers 503 to the first `fail_first` deliveries and while `failing`, else 200; keeps
/// every request.
#[derive(Clone, Default)]
pub struct Receiver {
    hits: Arc<Mutex<Vec<Hit>>>,
    fail_first: usize,
    pub failing: Arc<AtomicBool>,
}

impl Receiver {
    pub async fn start(fail_first: usize) -> (String, Receiver) {
        let r = Receiver {
            hits: Arc::default(),
            fail_first,
            failing: Arc::default(),
        };
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(Receiver::hook))
            .with_state(r.clone());
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/hook", l.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(l, app).await });
        (url, r)
    }

    async fn hook(
        axum::extract::State(r): axum::extract::State<Receiver>,
        headers: axum::http::HeaderMap,
        body: String,
    ) -> axum::http::StatusCode {
        let h = |n: &str| {
            headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let mut hits = r.hits.lock().expect("lock");
        let status = if hits.len() < r.fail_first || r.failing.load(Ordering::SeqCst) {
            503
        } else {
            200
        };
        hits.push(Hit {
            key: h("idempotency-key"),
            timestamp: h("x-reglament-timestamp"),
            signature: h("x-reglament-signature"),
            body,
            status,
        });
        axum::http::StatusCode::from_u16(status).expect("status")
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().expect("lock").clone()
    }
}

/// What a receiver computes to check a delivery: HMAC-SHA256 of `timestamp.body`.
pub fn expected_signature(timestamp: &str, body: &str) -> String {
    use hmac::{KeyInit as _, Mac as _};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

// ------------------------------------------------------------------ a local SMTP server

/// `python3 -m aiosmtpd` on a free port, writing what it receives into a maildir.
pub struct Smtp {
    child: Child,
    port: u16,
    dir: PathBuf,
}

#[derive(Debug, serde::Deserialize)]
pub struct Mail {
    pub message_id: String,
    pub to: String,
    pub subject: String,
    pub body: String,
}

impl Smtp {
    /// `None` (said loudly) without aiosmtpd; a failure with `REGLAMENT_CI=1`.
    pub fn start() -> Option<Smtp> {
        let has = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !has {
            assert!(
                !ci(),
                "REGLAMENT_CI=1 but aiosmtpd is not installed (.ci/aiosmtpd.sh)"
            );
            say("SKIPPED: aiosmtpd is not installed (python3 -m pip install aiosmtpd)");
            return None;
        }
        let port = StdListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir =
            std::env::temp_dir().join(format!("reglament-smtp-{}-{port}", std::process::id()));
        // aiosmtpd's Mailbox makes the maildir (with its tmp/new/cur) only when it is missing.
        let _ = std::fs::remove_dir_all(&dir);
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let smtp = Smtp { child, port, dir };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(smtp);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("aiosmtpd did not start on port {port}");
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received, decoded by Python's own e-mail parser.
    pub fn mails(&self) -> Vec<Mail> {
        let script = r#"
import email, email.policy, json, os, sys
root = sys.argv[1]
for sub in ("new", "cur"):
    d = os.path.join(root, sub)
    if not os.path.isdir(d):
        continue
    # In the order they arrived: maildir names sort by second, then by an unpadded
    # microsecond count, which is not arrival order within one second.
    for name in sorted(os.listdir(d), key=lambda n: (os.stat(os.path.join(d, n)).st_mtime_ns, n)):
        with open(os.path.join(d, name), "rb") as f:
            m = email.message_from_binary_file(f, policy=email.policy.default)
        print(json.dumps({"message_id": str(m["Message-ID"]), "to": str(m["To"]),
                          "subject": str(m["Subject"]), "body": m.get_content()}))
"#;
        let out = Command::new("python3")
            .args(["-c", script])
            .arg(&self.dir)
            .output()
            .expect("read the maildir");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).expect("a mail as JSON"))
            .collect()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
