//! `noctune commit --push`: the tracked upstream, fetched first; a branch behind it is
//! fast-forwarded (`merge --ff-only`) before anything is committed, a diverged one is refused
//! before anything is committed, and the push never forces.

use crate::error::Result;
use crate::runner::Git;

/// Where the current branch pushes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    /// The remote (`origin`).
    pub remote: String,
    /// The branch on the remote (`refs/heads/main`).
    pub remote_ref: String,
    /// The remote-tracking ref (`refs/remotes/origin/main`).
    pub tracking: String,
}

/// How the branch stood against its upstream before the sweep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sync {
    /// Level with it, or only ahead.
    Ready,
    /// It was behind, and was fast-forwarded.
    FastForwarded {
        /// How many commits it moved by.
        by: u64,
    },
    /// It cannot be pushed without forcing or rebasing: nothing is done.
    Refused {
        /// Why, for people.
        why: String,
    },
}

/// The current branch's upstream, `None` when it tracks none.
pub async fn upstream(git: &Git) -> Result<Option<Upstream>> {
    let branch = git.text(&["symbolic-ref", "-q", "HEAD"]).await?;
    let line = git
        .text(&[
            "for-each-ref",
            "--format=%(upstream:remotename)%00%(upstream:remoteref)%00%(upstream)",
            &branch,
        ])
        .await?;
    let mut parts = line.split('\0');
    let (Some(remote), Some(remote_ref), Some(tracking)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return Ok(None);
    };
    if remote.is_empty() || remote_ref.is_empty() || tracking.is_empty() {
        return Ok(None);
    }
    Ok(Some(Upstream {
        remote: remote.to_owned(),
        remote_ref: remote_ref.to_owned(),
        tracking: tracking.to_owned(),
    }))
}

/// `(ahead, behind)` of HEAD against the upstream's tracking ref.
async fn ahead_behind(git: &Git, upstream: &Upstream) -> Result<(u64, u64)> {
    let counts = git
        .text(&[
            "rev-list",
            "--left-right",
            "--count",
            &format!("HEAD...{}", upstream.tracking),
        ])
        .await?;
    let mut numbers = counts.split_whitespace().map(|n| n.parse().unwrap_or(0));
    Ok((numbers.next().unwrap_or(0), numbers.next().unwrap_or(0)))
}

/// Fetches the upstream; fast-forwards a branch that is only behind; refuses a diverged one.
pub async fn sync(git: &Git, upstream: &Upstream) -> Result<Sync> {
    git.text(&["fetch", "-q", &upstream.remote]).await?;
    let (ahead, behind) = ahead_behind(git, upstream).await?;
    if behind == 0 {
        return Ok(Sync::Ready);
    }
    if ahead > 0 {
        return Ok(Sync::Refused {
            why: format!(
                "the branch and `{}` have diverged ({ahead} local, {behind} upstream commits); \
                 nothing was committed or pushed (Noctune never forces or rebases)",
                upstream.tracking.trim_start_matches("refs/remotes/")
            ),
        });
    }
    let output = git
        .run(&["merge", "--ff-only", "-q", &upstream.tracking])
        .await?;
    if !output.success() {
        return Ok(Sync::Refused {
            why: format!(
                "the branch is {behind} commit(s) behind and cannot fast-forward: {}",
                output.stderr_text()
            ),
        });
    }
    Ok(Sync::FastForwarded { by: behind })
}

/// Pushes HEAD to the upstream branch when it is ahead; `Ok(None)` when there was nothing to
/// push, `Ok(Some(n))` for `n` commits pushed. A rejected push is an error with git's reason.
pub async fn push(git: &Git, upstream: &Upstream) -> Result<Option<u64>> {
    let (ahead, _) = ahead_behind(git, upstream).await?;
    if ahead == 0 {
        return Ok(None);
    }
    git.text(&[
        "push",
        "-q",
        &upstream.remote,
        &format!("HEAD:{}", upstream.remote_ref),
    ])
    .await?;
    Ok(Some(ahead))
}
