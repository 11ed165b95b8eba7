use crate::compose;
use std::process::ExitCode;
use tessera_application::RequestContext;
use tessera_config::Settings;

pub async fn verify(settings: &Settings, tenant: Option<&str>) -> anyhow::Result<ExitCode> {
    let app = compose::build(settings).await?;
    let reports = app
        .verify_audit(&RequestContext::cli(), tenant)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut broken = 0;
    for report in &reports {
        match &report.result {
            Ok(()) => println!(
                "ok      {:<24} {} events, chain intact",
                report.tenant, report.events
            ),
            Err(brk) => {
                broken += 1;
                println!("BROKEN  {:<24} {brk}", report.tenant);
            }
        }
    }
    if broken > 0 {
        eprintln!("{broken} of {} audit chains are broken", reports.len());
        return Ok(ExitCode::FAILURE);
    }
    eprintln!("{} audit chain(s) verified", reports.len());
    Ok(ExitCode::SUCCESS)
}
