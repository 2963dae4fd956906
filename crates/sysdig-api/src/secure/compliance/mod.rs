//! Compliance: benchmark tasks (`/api/complianceTasks[/{id}]`) and their results
//! (`/api/complianceResults[/{id}[/csv]]`), team-owned documents of the repository. Results
//! come from the emulator's ingestion route `POST /vigil/sysdig/secure/complianceResults`
//! (Sysdig's agents produce them; nothing here runs a benchmark).

pub mod results;
pub mod tasks;

pub const TASK: &str = "compliance_task";
pub const RESULT: &str = "compliance_result";
