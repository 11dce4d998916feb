//! Outgoing mail: SMTP through `lettre` when `SMTP_URL` is set, otherwise (development only) an
//! outbox in memory that `/dev/outbox` shows and the log prints, so the links can be clicked.
//!
//! Mail is sent off the request's path ([`Mailer::send_later`]): a request that mails and one
//! that does not (a reset for an unknown address) answer in the same time, and a slow mail
//! server never holds a request. A mail that fails is logged without its body (it carries a
//! one-time link).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::MailConfig;

/// How many mails the development outbox keeps (the newest).
const OUTBOX_KEEP: usize = 100;
/// One SMTP conversation may take this long.
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

/// One plain-text mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("SMTP_URL could not be used: {0}")]
    Url(String),
    #[error("the mail could not be built: {0}")]
    Build(String),
    #[error("the mail server refused or could not be reached: {0}")]
    Send(String),
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox,
}

pub struct Mailer {
    from: Mailbox,
    transport: Transport,
    outbox: Mutex<VecDeque<Mail>>,
}

/// Whether `raw` is a mailbox lettre accepts (`name <a@b.c>` or `a@b.c`).
pub fn is_valid_mailbox(raw: &str) -> bool {
    raw.parse::<Mailbox>().is_ok()
}

impl Mailer {
    pub fn new(config: &MailConfig) -> Result<Arc<Self>, MailError> {
        let from = config
            .from
            .parse::<Mailbox>()
            .map_err(|e| MailError::Url(e.to_string()))?;
        let transport = match &config.smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    // the error may quote the URL, password and all
                    .map_err(|_| MailError::Url("not a valid SMTP URL".into()))?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build(),
            ),
            None => Transport::Outbox,
        };
        Ok(Arc::new(Self {
            from,
            transport,
            outbox: Mutex::default(),
        }))
    }

    /// Whether mail goes to the development outbox instead of a mail server.
    pub fn is_outbox(&self) -> bool {
        matches!(self.transport, Transport::Outbox)
    }

    /// The outbox's mails, newest first (empty when mail goes to a server).
    pub fn outbox(&self) -> Vec<Mail> {
        self.outbox
            .lock()
            .map(|o| o.iter().rev().cloned().collect())
            .unwrap_or_default()
    }

    /// Sends now and answers how it went.
    pub async fn send(&self, mail: Mail) -> Result<(), MailError> {
        match &self.transport {
            Transport::Outbox => {
                tracing::info!(
                    to = %mail.to,
                    subject = %mail.subject,
                    "mail written to the development outbox (/dev/outbox):\n{}",
                    mail.text
                );
                if let Ok(mut outbox) = self.outbox.lock() {
                    if outbox.len() == OUTBOX_KEEP {
                        outbox.pop_front();
                    }
                    outbox.push_back(mail);
                }
                Ok(())
            }
            Transport::Smtp(smtp) => {
                let to = mail
                    .to
                    .parse::<Mailbox>()
                    .map_err(|e| MailError::Build(e.to_string()))?;
                let message = Message::builder()
                    .from(self.from.clone())
                    .to(to)
                    .subject(mail.subject)
                    .header(ContentType::TEXT_PLAIN)
                    .body(mail.text)
                    .map_err(|e| MailError::Build(e.to_string()))?;
                smtp.send(message)
                    .await
                    .map(|_| ())
                    .map_err(|e| MailError::Send(e.to_string()))
            }
        }
    }

    /// Sends in the background: the caller's answer does not wait for, or depend on, the mail.
    pub fn send_later(self: &Arc<Self>, mail: Mail) {
        let mailer = Arc::clone(self);
        tokio::spawn(async move {
            let subject = mail.subject.clone();
            if let Err(e) = mailer.send(mail).await {
                tracing::error!(%subject, error = %e, "mail not sent");
            }
        });
    }
}

/// The development outbox as a page (`/dev/outbox`), newest first; plain HTML, nothing cached.
pub fn outbox_page(mails: &[Mail]) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Outbox · subgate (development)</title></head>\
         <body><main><h1>Outbox (development)</h1><p>Mail subgate would have sent; set SMTP_URL to send it for real.</p>",
    );
    if mails.is_empty() {
        html.push_str("<p>No mail yet.</p>");
    }
    for mail in mails {
        html.push_str(&format!(
            "<article><h2>{}</h2><p>To: {}</p><pre>",
            esc(&mail.subject),
            esc(&mail.to)
        ));
        for line in mail.text.lines() {
            let line = esc(line);
            if line.starts_with("http://") || line.starts_with("https://") {
                html.push_str(&format!("<a href=\"{line}\">{line}</a>\n"));
            } else {
                html.push_str(&line);
                html.push('\n');
            }
        }
        html.push_str("</pre></article>");
    }
    html.push_str("</main></body></html>");
    html
}
