//! The node's essential tasks, watched together: each runs for as long as the node does, so
//! the first to end, by returning, failing or panicking, stops the node with its name, rather
//! than leaving a node that answers but no longer follows WebChain, talks to its peers or
//! stores anything.

use std::{collections::HashMap, future::Future};
use tokio::task::{Id, JoinSet};

/// An essential task ended.
#[derive(Debug, thiserror::Error)]
#[error("the essential task `{task}` ended: {why}")]
pub struct TaskEnded {
	/// Which.
	pub task: &'static str,
	/// What it returned, or its panic.
	pub why: String,
}

/// Essential tasks, each named.
#[derive(Default)]
pub struct Essential {
	tasks: JoinSet<Result<(), String>>,
	names: HashMap<Id, &'static str>,
}

impl Essential {
	/// Runs `task` as the essential task `name`: it returns only if it failed.
	pub fn spawn(
		&mut self,
		name: &'static str,
		task: impl Future<Output = Result<(), String>> + Send + 'static,
	) {
		let id = self.tasks.spawn(task).id();
		self.names.insert(id, name);
	}

	/// Runs `task` as [`Self::spawn`] does; it never returns while it works.
	pub fn spawn_endless(
		&mut self,
		name: &'static str,
		task: impl Future<Output = ()> + Send + 'static,
	) {
		self.spawn(name, async move {
			task.await;
			Err("it returned".into())
		});
	}

	/// The first task to end; pending for ever if there is none.
	pub async fn ended(&mut self) -> TaskEnded {
		let Some(joined) = self.tasks.join_next_with_id().await else {
			return std::future::pending().await;
		};
		let (id, why) = match joined {
			Ok((id, Ok(()))) => (id, "it stopped".to_string()),
			Ok((id, Err(why))) => (id, why),
			Err(error) => (error.id(), error.to_string()),
		};
		TaskEnded { task: self.names.get(&id).copied().unwrap_or("unknown"), why }
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[tokio::test]
	async fn the_first_task_to_end_is_named_with_why() {
		let mut essential = Essential::default();
		essential.spawn_endless("forever", std::future::pending());
		essential.spawn("failing", async { Err("the disk is gone".into()) });
		let ended = essential.ended().await;
		assert_eq!((ended.task, ended.why.as_str()), ("failing", "the disk is gone"));

		essential.spawn_endless("returning", async {});
		assert_eq!(
			essential.ended().await.to_string(),
			"the essential task `returning` ended: it returned"
		);

		essential.spawn_endless("panicking", async { panic!("bug") });
		let ended = essential.ended().await;
		assert_eq!(ended.task, "panicking");
		assert!(ended.why.contains("panic"), "{}", ended.why);
	}
}
