//! Operator review: verify, reject or suspend global agents.
use super::components::{failure, error_text, go_to, ActionError, Alert, CategoryList, PageTitle, StatusBadge};
use crate::domain::agent::AgentStatus;
use crate::domain::time::human;
use crate::model::ReviewItem;
use leptos::prelude::*;

#[server]
pub async fn operator_session() -> Result<Option<String>, ServerFnError> {
    crate::web::context::run(async move {
        let account = crate::web::context::account(crate::service::accounts::AccountKind::Operator).await?;
        Ok(account.map(|a| a.email))
    })
    .await
}

#[server(endpoint = "operator/sign_in")]
pub async fn operator_sign_in(email: String, password: String) -> Result<(), ServerFnError> {
    use crate::web::context;
    use crate::service::accounts::AccountKind;
    crate::web::context::run(async move {
        let state = context::state()?;
        let token =
            crate::service::accounts::sign_in(&state.db, AccountKind::Operator, &context::client_key(), &email, &password).await?;
        context::start_session(&state, AccountKind::Operator, &token);
        Ok(())
    })
    .await
}

#[server]
pub async fn operator_sign_out() -> Result<(), ServerFnError> {
    crate::web::context::run(async move {
        crate::web::context::end_session(crate::service::accounts::AccountKind::Operator).await
    })
    .await
}

#[server]
pub async fn review_queue() -> Result<Vec<ReviewItem>, ServerFnError> {
    use crate::model::AgentView;
    use crate::service::accounts::AccountKind;
    crate::web::context::as_account(AccountKind::Operator, |state, _| async move {
        let queue = crate::service::agents::review_queue(&state.db).await?;
        Ok(queue.iter().map(|(a, email)| ReviewItem { agent: AgentView::from(a), tenant_email: email.clone() }).collect())
    })
    .await
}

#[server]
pub async fn set_agent_status(id: String, status: String) -> Result<(), ServerFnError> {
    use crate::error::AppError;
    use crate::service::accounts::AccountKind;
    crate::web::context::as_account(AccountKind::Operator, |state, operator| async move {
        let status = AgentStatus::parse(&status)
            .filter(|s| *s != AgentStatus::Pending)
            .ok_or_else(|| AppError::invalid("status", "Choose verify, reject or suspend."))?;
        crate::service::agents::review(&state.db, &id, status, &format!("operator:{}", operator.email)).await?;
        Ok(())
    })
    .await
}

#[component]
pub fn OperatorPage() -> impl IntoView {
    // Resources at the top and one data boundary (nested boundaries race during hydration).
    let session = Resource::new(|| (), |_| operator_session());
    let decide = ServerAction::<SetAgentStatus>::new();
    let queue = Resource::new(move || decide.version().get(), |_| review_queue());
    let sign_out = ServerAction::<OperatorSignOut>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = sign_out.value().get() {
            go_to("/operator");
        }
    });
    view! {
        <PageTitle text="Operator review"/>
        <header class="site-header operator">
            <a class="brand" href="/operator">"Memory Passport · Operator"</a>
        </header>
        <main id="main">
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let email = match session.await {
                        Ok(Some(email)) => email,
                        Ok(None) => return view! { <OperatorSignInForm/> }.into_any(),
                        Err(e) => return view! { <Alert message=error_text(&e)/> }.into_any(),
                    };
                    let list = match queue.await {
                        Err(e) => view! { <Alert message=error_text(&e)/> }.into_any(),
                        Ok(items) if items.is_empty() => view! { <p class="empty">"No agents have been registered yet."</p> }.into_any(),
                        Ok(items) => view! {
                            <ul class="agent-list">
                                {items.into_iter().map(|item| view! { <ReviewRow item=item decide=decide/> }).collect_view()}
                            </ul>
                        }.into_any(),
                    };
                    view! {
                        <div class="page-head">
                            <h1>"Global agents"</h1>
                            <p class="lead">"Verify agents whose owners and purpose you have checked. Rejected and suspended agents cannot receive grants, and their API calls fail."</p>
                            <p class="muted">
                                "Signed in as " {email} " · "
                                <button type="button" class="link-button" on:click=move |_| { sign_out.dispatch(OperatorSignOut {}); }>"Sign out"</button>
                            </p>
                        </div>
                        <ActionError error=Signal::derive(move || failure(decide.value().get()))/>
                        {list}
                    }.into_any()
                })}
            </Transition>
        </main>
    }
}

#[component]
fn OperatorSignInForm() -> impl IntoView {
    let action = ServerAction::<OperatorSignIn>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            go_to("/operator");
        }
    });
    view! {
        <section class="narrow">
            <h1>"Operator sign-in"</h1>
            <p class="muted">"Operator accounts are created on the server with memory-passport operator create."</p>
            <ActionForm action=action attr:class="form card">
                <label for="op-email">"Email"</label>
                <input id="op-email" name="email" type="email" autocomplete="username" required/>
                <label for="op-password">"Password"</label>
                <input id="op-password" name="password" type="password" autocomplete="current-password" required/>
                {move || action.value().get().and_then(|r| r.err()).map(|e| view! { <Alert message=error_text(&e)/> })}
                <button type="submit" class="button primary">"Sign in"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn ReviewRow(item: ReviewItem, decide: ServerAction<SetAgentStatus>) -> impl IntoView {
    let a = item.agent;
    let heading = format!("review-{}", a.id);
    let heading_ref = heading.clone();
    let buttons = [
        (AgentStatus::Verified, "Verify", "button primary small"),
        (AgentStatus::Rejected, "Reject", "button danger small"),
        (AgentStatus::Suspended, "Suspend", "button danger small"),
    ]
    .into_iter()
    .filter(|(s, _, _)| *s != a.status)
    .map(|(status, label, class)| {
        let id = a.id.clone();
        let aria = format!("{label} {}", a.name);
        view! {
            <button type="button" class=class aria-label=aria
                on:click=move |_| { decide.dispatch(SetAgentStatus { id: id.clone(), status: status.as_str().to_string() }); }>
                {label}
            </button>
        }
    })
    .collect_view();
    view! {
        <li class="agent card" aria-labelledby=heading_ref>
            <div class="agent-head">
                <h2 id=heading>{a.name.clone()}</h2>
                <StatusBadge status=a.status/>
            </div>
            <dl class="facts">
                <dt>"Agent ID"</dt><dd><code>{a.id.clone()}</code></dd>
                <dt>"Tenant"</dt><dd>{item.tenant_email}</dd>
                <dt>"Website"</dt><dd>{if a.website_url.is_empty() { "None".to_string() } else { a.website_url.clone() }}</dd>
                <dt>"Description"</dt><dd>{if a.description.is_empty() { "None".to_string() } else { a.description.clone() }}</dd>
                <dt>"Default categories"</dt><dd><CategoryList categories=a.default_categories.clone()/></dd>
                <dt>"Registered"</dt><dd>{human(a.created_at)}</dd>
            </dl>
            {(!a.changes_since_review.is_empty()).then(|| view! {
                <section class="changes" aria-label=format!("What changed in {} since it was verified", a.name)>
                    <h3>"Changed since it was verified"</h3>
                    <div class="table-wrap">
                        <table>
                            <thead><tr><th scope="col">"Field"</th><th scope="col">"When verified"</th><th scope="col">"Now"</th></tr></thead>
                            <tbody>
                                {a.changes_since_review.iter().map(|c| view! {
                                    <tr>
                                        <th scope="row">{c.field.clone()}</th>
                                        <td>{if c.before.is_empty() { "(empty)".to_string() } else { c.before.clone() }}</td>
                                        <td>{if c.after.is_empty() { "(empty)".to_string() } else { c.after.clone() }}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                </section>
            })}
            <div class="actions">{buttons}</div>
        </li>
    }
}
