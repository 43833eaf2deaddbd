//! The Schedules screen's commands: each a thin translation onto the service's schedule
//! calls. Drafts arrive as the form's fields (`ScheduleDraft`, camelCase); a mistake comes
//! back as `{code, message, advice, field}` and nothing is saved.

use herald_core::number_check::NumberCheck;
use herald_core::schedule::draft::ScheduleDraft;
use herald_core::schedule::recipient::Country;
use herald_core::schedule::view::{OccurrenceView, ScheduleView, SendView};
use herald_core::schedules::{GroupView, SchedulerStatus, TimeZones};
use tauri::State;

use crate::error::UiError;
use crate::state::AppState;

type Result<T> = std::result::Result<T, UiError>;

#[tauri::command]
pub fn list_schedules(state: State<'_, AppState>) -> Result<Vec<ScheduleView>> {
    Ok(state.service.schedules()?)
}

#[tauri::command]
pub fn get_schedule(state: State<'_, AppState>, id: i64) -> Result<ScheduleView> {
    Ok(state.service.schedule(id)?)
}

/// Saves a new schedule once its number is checked on WhatsApp (refused when WhatsApp says
/// it has no account; saved when Herald cannot ask now).
#[tauri::command]
pub async fn create_schedule(
    state: State<'_, AppState>,
    draft: ScheduleDraft,
) -> Result<ScheduleView> {
    Ok(state.service.create_schedule_checked(&draft).await?)
}

#[tauri::command]
pub async fn edit_schedule(
    state: State<'_, AppState>,
    id: i64,
    draft: ScheduleDraft,
) -> Result<ScheduleView> {
    Ok(state.service.edit_schedule_checked(id, &draft).await?)
}

/// Whether the form's number is on WhatsApp (`{"status":"on_whatsapp"|"not_on_whatsapp"|
/// "unchecked"|"not_a_number",…}`); a number that is not valid is refused on `to`.
#[tauri::command]
pub async fn check_number(
    state: State<'_, AppState>,
    to: String,
    region: Option<String>,
) -> Result<NumberCheck> {
    Ok(state.service.check_number(&to, region.as_deref()).await?)
}

#[tauri::command]
pub fn pause_schedule(state: State<'_, AppState>, id: i64) -> Result<ScheduleView> {
    Ok(state.service.pause_schedule(id)?)
}

#[tauri::command]
pub fn resume_schedule(state: State<'_, AppState>, id: i64) -> Result<ScheduleView> {
    Ok(state.service.resume_schedule(id)?)
}

#[tauri::command]
pub fn duplicate_schedule(state: State<'_, AppState>, id: i64) -> Result<ScheduleView> {
    Ok(state.service.duplicate_schedule(id)?)
}

#[tauri::command]
pub fn delete_schedule(state: State<'_, AppState>, id: i64) -> Result<()> {
    Ok(state.service.delete_schedule(id)?)
}

#[tauri::command]
pub fn send_schedule_now(state: State<'_, AppState>, id: i64) -> Result<SendView> {
    Ok(state.service.send_now(id)?)
}

/// The next sends of the form's timing (5 unless asked), with DST shifts flagged.
#[tauri::command]
pub fn preview_schedule(
    state: State<'_, AppState>,
    draft: ScheduleDraft,
    count: Option<usize>,
) -> Result<Vec<OccurrenceView>> {
    Ok(state.service.preview(&draft, count.unwrap_or(5))?)
}

/// A schedule's log, newest first.
#[tauri::command]
pub fn schedule_sends(
    state: State<'_, AppState>,
    id: i64,
    limit: Option<usize>,
) -> Result<Vec<SendView>> {
    Ok(state.service.schedule_sends(id, limit.unwrap_or(100))?)
}

#[tauri::command]
pub fn scheduler_status(state: State<'_, AppState>) -> SchedulerStatus {
    state.service.scheduler_status()
}

#[tauri::command]
pub fn phone_countries(state: State<'_, AppState>) -> Vec<Country> {
    state.service.phone_countries()
}

#[tauri::command]
pub fn time_zones(state: State<'_, AppState>) -> TimeZones {
    state.service.time_zones()
}

/// The account's groups, to choose a recipient from (while online).
#[tauri::command]
pub async fn account_groups(state: State<'_, AppState>) -> Result<Vec<GroupView>> {
    Ok(state.service.account_groups().await?)
}
