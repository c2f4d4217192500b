//! E-mail deliveries over SMTP (lettre, its tokio transport with rustls for `smtps://` and
//! STARTTLS). Each notice is one plain-text message whose `Message-ID` is made of the
//! notice's id, the same on every attempt, so a repeat after a crash can be recognised.

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::NotifyError;
use super::tables::Notice;

/// An SMTP connection's settings, ready to send.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// `url`: `smtp://host:port` (plain, for a local relay), `smtp://user:pass@host:587?tls=required`
    /// (STARTTLS), `smtps://user:pass@host:465` (TLS from the start).
    pub fn new(url: &str, from: &str, timeout: std::time::Duration) -> Result<Mailer, NotifyError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| NotifyError::Smtp(format!("`{}`: {e}", redact(url))))?
            .timeout(Some(timeout))
            .build();
        let from: Mailbox = from
            .parse()
            .map_err(|e| NotifyError::Smtp(format!("the sender `{from}`: {e}")))?;
        Ok(Mailer { transport, from })
    }

    /// Sends one notice; `Err` says why it failed, for `last_error`.
    pub async fn send(&self, n: &Notice) -> Result<(), String> {
        let to: Mailbox = n
            .target
            .parse()
            .map_err(|e| format!("the address `{}`: {e}", n.target))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(n.subject.clone())
            .message_id(Some(format!("<{}@reglament>", n.id)))
            .header(ContentType::TEXT_PLAIN)
            .body(n.body.clone())
            .map_err(|e| format!("{e}"))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("{e}"))
    }
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_settings_are_checked_and_passwords_kept_out_of_messages() {
        let t = std::time::Duration::from_secs(1);
        assert!(Mailer::new("smtp://127.0.0.1:8025", "Reglament <r@example.kz>", t).is_ok());
        assert!(Mailer::new("smtps://u:p@mail.example.kz:465", "r@example.kz", t).is_ok());
        let Err(e) = Mailer::new("gopher://u:secret@x", "r@example.kz", t) else {
            panic!("a gopher URL is not SMTP");
        };
        assert!(!e.to_string().contains("secret"), "{e}");
        assert!(Mailer::new("smtp://127.0.0.1:8025", "not an address", t).is_err());
    }
}
