//! The manage page's server functions; each calls `service::manage` with the signed-in
//! person's Passport (no session: "Your session has ended").
use crate::domain::agent::AccessType;
use crate::domain::categories::Category;
use crate::domain::grant::GrantDuration;
use crate::model::{SignInState, ConflictAnswer, ConflictQuestion, Flag, GrantCard, HistoryEntry, ManageOverview, MemoryFilter, MemoryPage, MemoryVersion};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
async fn signed_in() -> Result<crate::service::passport_session::Passport, crate::error::AppError> {
    crate::server::context::passport().await?.ok_or(crate::error::AppError::Unauthenticated)
}

/// The page's first data, or where the signed-out person is in the sign-in.
#[server(endpoint = "manage/overview")]
pub async fn load_overview() -> Result<Result<(ManageOverview, MemoryPage), SignInState>, ServerFnError> {
    use crate::server::context;
    context::run(async move {
        let state = context::state()?;
        let Some(p) = context::passport().await? else { return Ok(Err(context::sign_in_state())) };
        let overview = crate::service::manage::overview(&state.db, &p).await?;
        let page = crate::service::manage::memory_page(&state.db, &p, &MemoryFilter::default()).await?;
        Ok(Ok((overview, page)))
    })
    .await
}

#[server(endpoint = "manage/apps", input = Json)]
pub async fn load_apps() -> Result<(Vec<GrantCard>, Vec<HistoryEntry>), ServerFnError> {
    use crate::server::context;
    context::run(async move {
        let state = context::state()?;
        crate::service::manage::apps(&state.db, &signed_in().await?).await
    })
    .await
}

#[server(endpoint = "manage/update_grant", input = Json)]
pub async fn update_grant(grant_id: String, categories: Vec<Category>, access: AccessType, duration: GrantDuration) -> Result<(), ServerFnError> {
    use crate::server::context;
    context::run(async move {
        let state = context::state()?;
        crate::service::manage::update_grant(&state.db, &signed_in().await?, &grant_id, &categories, access, duration).await?;
        Ok(())
    })
    .await
}

#[server(endpoint = "manage/revoke", input = Json)]
pub async fn revoke_grant(grant_id: String) -> Result<(), ServerFnError> {
    use crate::server::context;
    context::run(async move {
        let state = context::state()?;
        crate::service::manage::revoke_grant(&state.db, &signed_in().await?, &grant_id).await
    })
    .await
}

#[server(endpoint = "manage/memories", input = Json)]
pub async fn load_memories(filter: MemoryFilter) -> Result<MemoryPage, ServerFnError> {
    use crate::server::context;
    context::run(async move {
        let state = context::state()?;
        crate::service::manage::memory_page(&state.db, &signed_in().await?, &filter).await
    })
    .await
}

#[server(endpoint = "manage/correct", input = Json)]
pub async fn correct_memory(memory_id: String, content: String, category: Category) -> Result<(), ServerFnError> {
    use crate::server::context;
    context::run(async move {
        let state = context::state()?;
        crate::service::manage::correct_memory(&state.db, &signed_in().await?, &memory_id, &content, category).await
    })
    .await
}

#[server(endpoint = "manage/flag", input = Json)]
pub async fn flag_memory(memory_id: String, flag: Option<Flag>) -> Result<(), ServerFnError> {
    use crate::server::context;
    context::run(async move {
        let state = context::state()?;
        crate::service::manage::flag_memory(&state.db, &signed_in().await?, &memory_id, flag).await
    })
    .await
}

#[server(endpoint = "manage/delete_memory", input = Json)]
pub async fn delete_memory(memory_id: String) -> Result<(), ServerFnError> {
    use crate::server::context;
    context::run(async move {
        let state = context::state()?;
        crate::service::manage::delete_memory(&state.db, &signed_in().await?, &memory_id).await
    })
    .await
}

#[server(endpoint = "manage/versions", input = Json)]
pub async fn memory_versions(memory_id: String) -> Result<Vec<MemoryVersion>, ServerFnError> {
    use crate::server::context;
    context::run(async move {
        let state = context::state()?;
        crate::service::manage::memory_versions(&state.db, &signed_in().await?, &memory_id).await
    })
    .await
}

#[server(endpoint = "manage/questions", input = Json)]
pub async fn load_questions(offset: i64) -> Result<(Vec<ConflictQuestion>, i64), ServerFnError> {
    use crate::server::context;
    use crate::service::manage::{questions, QUESTIONS_PAGE};
    context::run(async move {
        let state = context::state()?;
        questions(&state.db, &signed_in().await?, QUESTIONS_PAGE, offset).await
    })
    .await
}

#[server(endpoint = "manage/answer", input = Json)]
pub async fn answer_question(conflict_id: String, answer: ConflictAnswer) -> Result<(), ServerFnError> {
    use crate::server::context;
    context::run(async move {
        let state = context::state()?;
        crate::service::manage::answer_question(&state.db, &signed_in().await?, &conflict_id, answer).await
    })
    .await
}

/// Deletes the whole Passport and ends the session.
#[server(endpoint = "manage/delete_passport", input = Json)]
pub async fn delete_passport(confirm: String) -> Result<(), ServerFnError> {
    use crate::server::context;
    context::run(async move {
        let state = context::state()?;
        let p = signed_in().await?;
        crate::service::manage::delete_passport(&state.db, &state.key, &state.universal, &p, &confirm).await?;
        context::end_passport_session().await
    })
    .await
}
