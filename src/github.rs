//! The GitHub REST calls the pull-request comment makes: list an issue's comments (paginated),
//! create one, update one. The token is sent as a header and never printed, logged or formatted.

use std::fmt;
use std::time::Duration;

use serde_json::{json, Value};

/// A comment on a pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub id: u64,
    pub body: String,
    pub url: String,
    /// The login of who wrote it.
    pub author: String,
}

/// Who GITHUB_TOKEN in a workflow comments as: the token of an Actions run is not a user, and
/// GitHub answers `GET /user` for it with 403 "Resource not accessible by integration".
pub const ACTIONS_BOT: &str = "github-actions[bot]";

#[derive(Debug, thiserror::Error)]
pub enum GitHubError {
    #[error(
        "GitHub rejected the token (401 Unauthorized): check that GITHUB_TOKEN holds a valid token"
    )]
    Unauthorized,
    #[error("GitHub's rate limit is exhausted ({0}); try again later")]
    RateLimited(String),
    #[error("GitHub refused (403 Forbidden): the token may lack permission to comment; in a workflow, grant `permissions: pull-requests: write`. GitHub said: {0}")]
    Forbidden(String),
    #[error("not found (404): repository {repo} or pull request #{pr} does not exist, or the token cannot see it")]
    NotFound { repo: String, pr: u64 },
    #[error("GitHub rejected the comment (422 Unprocessable): {0}")]
    Unprocessable(String),
    #[error("GitHub answered {status}: {message}")]
    Status { status: u16, message: String },
    #[error("could not reach GitHub at {api}: {message}")]
    Transport { api: String, message: String },
}

pub struct GitHub {
    api: String,
    repo: String,
    token: String,
    agent: ureq::Agent,
}

impl fmt::Debug for GitHub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitHub")
            .field("api", &self.api)
            .field("repo", &self.repo)
            .field("token", &"****")
            .finish()
    }
}

struct Reply {
    status: u16,
    next: Option<String>,
    remaining: Option<String>,
    reset: Option<String>,
    body: String,
}

impl GitHub {
    /// `api` is `GITHUB_API_URL` (https://api.github.com, or a GitHub Enterprise URL), `repo` is
    /// `owner/name`.
    pub fn new(api: &str, repo: &str, token: &str) -> GitHub {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(Duration::from_secs(30)))
            .user_agent(concat!("cfdeploy/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        GitHub {
            api: api.trim_end_matches('/').to_string(),
            repo: repo.to_string(),
            token: token.to_string(),
            agent,
        }
    }

    /// Every comment of the pull request, following the `Link: rel="next"` pages.
    pub fn list_comments(&self, pr: u64) -> Result<Vec<Comment>, GitHubError> {
        let mut url = Some(format!(
            "{}/repos/{}/issues/{pr}/comments?per_page=100",
            self.api, self.repo
        ));
        let mut comments = Vec::new();
        while let Some(current) = url.take() {
            let reply = self.send("GET", &current, None)?;
            self.check(&reply, pr)?;
            let page: Value =
                serde_json::from_str(&reply.body).map_err(|e| GitHubError::Status {
                    status: reply.status,
                    message: format!("unreadable list of comments: {e}"),
                })?;
            comments.extend(page.as_array().into_iter().flatten().filter_map(comment));
            url = reply.next;
        }
        Ok(comments)
    }

    /// The login the token acts as: `GET /user`, or the Actions bot for a workflow's token.
    pub fn identity(&self) -> Result<String, GitHubError> {
        let url = format!("{}/user", self.api);
        let reply = self.send("GET", &url, None)?;
        // An installation token (GITHUB_TOKEN in Actions) cannot read /user: it is the bot.
        let integration = reply.status == 404
            || (reply.status == 403 && reply.body.contains("not accessible by integration"));
        if integration {
            return Ok(ACTIONS_BOT.to_string());
        }
        self.check(&reply, 0)?;
        serde_json::from_str::<Value>(&reply.body)
            .ok()
            .and_then(|v| v["login"].as_str().map(str::to_string))
            .ok_or_else(|| GitHubError::Status {
                status: reply.status,
                message: "the answer to GET /user has no login".to_string(),
            })
    }

    pub fn create_comment(&self, pr: u64, body: &str) -> Result<Comment, GitHubError> {
        let url = format!("{}/repos/{}/issues/{pr}/comments", self.api, self.repo);
        let reply = self.send("POST", &url, Some(json!({ "body": body })))?;
        self.one(reply, pr)
    }

    pub fn update_comment(&self, pr: u64, id: u64, body: &str) -> Result<Comment, GitHubError> {
        let url = format!("{}/repos/{}/issues/comments/{id}", self.api, self.repo);
        let reply = self.send("PATCH", &url, Some(json!({ "body": body })))?;
        self.one(reply, pr)
    }

    fn one(&self, reply: Reply, pr: u64) -> Result<Comment, GitHubError> {
        self.check(&reply, pr)?;
        serde_json::from_str::<Value>(&reply.body)
            .ok()
            .as_ref()
            .and_then(comment)
            .ok_or_else(|| GitHubError::Status {
                status: reply.status,
                message: "the answer is not a comment".to_string(),
            })
    }

    fn send(&self, method: &str, url: &str, body: Option<Value>) -> Result<Reply, GitHubError> {
        let transport = |e: ureq::Error| GitHubError::Transport {
            api: self.api.clone(),
            message: e.to_string(),
        };
        let auth = format!("Bearer {}", self.token);
        let result = match (method, body) {
            ("GET", _) => self
                .agent
                .get(url)
                .header("Authorization", &auth)
                .header("Accept", "application/vnd.github+json")
                .header("X-GitHub-Api-Version", "2022-11-28")
                .call(),
            (_, body) => {
                let text = body.unwrap_or(Value::Null).to_string();
                let request = if method == "PATCH" {
                    self.agent.patch(url)
                } else {
                    self.agent.post(url)
                };
                request
                    .header("Authorization", &auth)
                    .header("Accept", "application/vnd.github+json")
                    .header("X-GitHub-Api-Version", "2022-11-28")
                    .content_type("application/json")
                    .send(text)
            }
        };
        let mut response = result.map_err(transport)?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let next = header("link").and_then(|l| next_link(&l));
        let remaining = header("x-ratelimit-remaining");
        let reset = header("x-ratelimit-reset");
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().map_err(transport)?;
        Ok(Reply {
            status,
            next,
            remaining,
            reset,
            body,
        })
    }

    fn check(&self, reply: &Reply, pr: u64) -> Result<(), GitHubError> {
        let message = || {
            serde_json::from_str::<Value>(&reply.body)
                .ok()
                .and_then(|v| v["message"].as_str().map(str::to_string))
                .unwrap_or_else(|| reply.body.chars().take(200).collect())
        };
        let reset = || {
            reply
                .reset
                .as_deref()
                .map(|r| format!("resets at unix time {r}"))
                .unwrap_or_else(|| "no reset time given".to_string())
        };
        match reply.status {
            200..=299 => Ok(()),
            401 => Err(GitHubError::Unauthorized),
            403 | 429
                if reply.remaining.as_deref() == Some("0")
                    || message().to_lowercase().contains("rate limit") =>
            {
                Err(GitHubError::RateLimited(reset()))
            }
            429 => Err(GitHubError::RateLimited(reset())),
            403 => Err(GitHubError::Forbidden(message())),
            404 => Err(GitHubError::NotFound {
                repo: self.repo.clone(),
                pr,
            }),
            422 => Err(GitHubError::Unprocessable(message())),
            status => Err(GitHubError::Status {
                status,
                message: message(),
            }),
        }
    }
}

fn comment(v: &Value) -> Option<Comment> {
    Some(Comment {
        id: v["id"].as_u64()?,
        body: v["body"].as_str().unwrap_or_default().to_string(),
        url: v["html_url"].as_str().unwrap_or_default().to_string(),
        author: v["user"]["login"].as_str().unwrap_or_default().to_string(),
    })
}

/// The `rel="next"` URL of a `Link` header.
fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim() == "rel=\"next\"")
            .then(|| {
                url.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_page_comes_from_the_link_header() {
        let link = r#"<https://api.github.com/repositories/1/issues/7/comments?per_page=100&page=2>; rel="next", <https://api.github.com/repositories/1/issues/7/comments?per_page=100&page=3>; rel="last""#;
        assert_eq!(
            next_link(link).as_deref(),
            Some("https://api.github.com/repositories/1/issues/7/comments?per_page=100&page=2")
        );
        assert_eq!(next_link(r#"<https://x/1>; rel="prev""#), None);
    }

    #[test]
    fn the_token_never_shows_in_debug_output() {
        let gh = GitHub::new("https://api.github.com", "o/r", "ghp_secretToken123");
        assert!(!format!("{gh:?}").contains("ghp_secretToken123"));
    }
}
