//! The `cloudwatch` service: operation table. Handlers land here with the issue that
//! implements them; every other operation of the model answers `NotImplemented` naming it.

pub mod dashboards;

use super::Handler;

/// Implemented operations and their handlers.
pub const OPERATIONS: &[(&str, Handler)] = &[
    ("DeleteDashboards", dashboards::delete_dashboards),
    ("GetDashboard", dashboards::get_dashboard),
    ("ListDashboards", dashboards::list_dashboards),
    ("PutDashboard", dashboards::put_dashboard),
];
