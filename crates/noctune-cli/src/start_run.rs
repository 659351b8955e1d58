//! Taking a run for a command: a new one, or the one `--run-id` names resumed (which must have
//! been started by the same command with the same pack), marked `starting`, with the model's
//! calibration records kept beside it.

use anyhow::bail;
use noctune_core::llm::Calibration;
use noctune_core::run_origin::RunOrigin;
use noctune_core::store::{Run, RunSpec, RunStore, write_run_calibrations};
use noctune_core::{RunId, RunStatus};

/// What the run is for.
pub struct RunFor<'a> {
    /// The command's name in `run.json` (`run`, `edit`, `task`, ...).
    pub command: &'a str,
    /// The policy pack in force.
    pub pack: &'a str,
    /// The probe's records of the model, one per endpoint that answered (none with `--llm
    /// replay:`).
    pub calibrations: &'a [Calibration],
}

/// Creates the run `run_id`, or resumes it when it exists; either way its status is `starting`.
pub fn start_run(
    store: &RunStore,
    run_id: RunId,
    origin: RunOrigin,
    what: RunFor<'_>,
) -> anyhow::Result<Run> {
    let run = if let Ok(record) = store.read(&run_id) {
        // A resume must do the same kind of work with the same pack: the run's artifacts and
        // decisions were made for them.
        if let Some(command) = &record.command
            && command != what.command
        {
            bail!(
                "run `{run_id}` was started by `noctune {command}`; resume it with \
                 `noctune {command} --run-id {run_id}`, or start a new run"
            );
        }
        if let Some(pack) = &record.pack
            && pack != what.pack
        {
            bail!(
                "run `{run_id}` uses pack `{pack}`; resume it with `--pack {pack}`, or start a \
                 new run"
            );
        }
        let mut run = store.open(&run_id)?;
        run.update(|record| {
            origin.fill(record);
            record.status = RunStatus::Starting;
            record.error = None;
        })?;
        run
    } else {
        store.create(RunSpec {
            run_id: Some(run_id),
            pack: Some(what.pack.to_owned()),
            command: Some(what.command.to_owned()),
            profile: origin.profile,
            branch: origin.branch,
            head_sha: origin.head_sha,
            starting: true,
            ..RunSpec::default()
        })?
    };
    // The probe's records of the model go with the run (the report shows them).
    if !what.calibrations.is_empty() {
        write_run_calibrations(
            &store.cache().run(run.id()).model_calibration(),
            what.calibrations,
        )?;
    }
    Ok(run)
}
