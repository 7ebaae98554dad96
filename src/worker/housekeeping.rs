//! Housekeeping beside the delivery worker: the daily retention sweep and scheduled backups, checked
//! every minute, so that neither holds up deliveries.

use std::time::Duration;

use crate::service::Service;
use crate::service::backup::BackupPlan;

/// Runs until `stop` turns true. Failures are logged and tried again at the next check.
pub async fn run(service: Service, plan: BackupPlan, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        if let Err(e) = service.retention_sweep_if_due().await {
            tracing::error!(error = %e, "the retention sweep failed; it is tried again in a minute");
        }
        if let Err(e) = service.backup_if_due(&plan).await {
            tracing::error!(error = %e, "the scheduled backup failed; it is tried again in a minute");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(60)) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
    }
}
