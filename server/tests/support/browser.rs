//! A cookie-keeping HTTP client for the web pages (no browser, no redirects followed).

use std::collections::BTreeMap;

use reglament_server::demo::DEMO_PASSWORD;

use super::Server;

/// A cookie-keeping client that does not follow redirects.
pub struct Browser {
    pub base: String,
    pub client: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
}

#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    /// The value of the first hidden `_csrf` field.
    pub fn csrf(&self) -> String {
        hidden(&self.body, "_csrf").unwrap_or_else(|| panic!("no _csrf in {}", self.body))
    }
}

pub fn hidden(body: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker)? + marker.len();
    let end = body[start..].find('"')?;
    Some(body[start..start + end].to_string())
}

impl Browser {
    pub fn new(s: &Server) -> Browser {
        Browser {
            base: s.base.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookies: BTreeMap::new(),
        }
    }

    pub async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let cookie: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let req = if cookie.is_empty() {
            req
        } else {
            req.header("cookie", cookie.join("; "))
        };
        let r = req.send().await.expect("the server answers");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let location = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let set_cookies: Vec<String> = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect();
        for c in &set_cookies {
            let pair = c.split(';').next().unwrap_or_default();
            if let Some((k, v)) = pair.split_once('=') {
                if v.is_empty() || c.contains("Max-Age=0") {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_string(), v.to_string());
                }
            }
        }
        let body = r.text().await.unwrap_or_default();
        Page {
            status,
            location,
            set_cookies,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let req = self
            .client
            .get(format!("{}{path}", self.base))
            .header("accept", "text/html");
        self.send(req).await
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = serde_urlencoded::to_string(fields).expect("form");
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(req).await
    }

    /// Signs in with the demo password, expecting success.
    pub async fn sign_in(&mut self, login: &str) {
        let r = self.sign_in_with(login, DEMO_PASSWORD, "/inbox").await;
        assert_eq!(r.status, 303, "{login}: {}", r.body);
        assert!(self.cookies.contains_key("reglament_session"));
    }

    /// Fills and posts the sign-in form; the answer as it comes.
    pub async fn sign_in_with(&mut self, login: &str, password: &str, next: &str) -> Page {
        let form = self.get("/signin").await;
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = form.csrf();
        self.post(
            "/signin",
            &[
                ("_csrf", &csrf),
                ("login", login),
                ("password", password),
                ("next", next),
            ],
        )
        .await
    }
}
