//! Needs your decision: a new statement that contradicts a memory, asked as A / B / both /
//! neither; the answer changes what agents receive.
use leptos::server_fn::codec::Json;
use crate::app::components::{failure, ActionError};
use crate::domain::time::human;
use crate::model::{ConflictAnswer, ConflictQuestion};
use leptos::prelude::*;

#[server(endpoint = "manage/questions", input = Json)]
pub async fn load_questions(offset: i64) -> Result<(Vec<ConflictQuestion>, i64), ServerFnError> {
    use crate::web::context;
    use crate::service::manage::{questions, QUESTIONS_PAGE};
    context::as_person(|state, passport| async move {
        questions(&state.db, &passport, QUESTIONS_PAGE, offset).await
    })
    .await
}

#[server(endpoint = "manage/answer", input = Json)]
pub async fn answer_question(conflict_id: String, answer: ConflictAnswer) -> Result<(), ServerFnError> {
    use crate::web::context;
    context::as_person(|state, passport| async move {
        crate::service::manage::answer_question(&state.db, &passport, &conflict_id, answer).await
    })
    .await
}


#[component]
pub fn QuestionsSection(questions: RwSignal<Vec<ConflictQuestion>>, total: RwSignal<i64>, reload_memories: Callback<()>) -> impl IntoView {
    let answer = ServerAction::<AnswerQuestion>::new();
    // Questions come a page at a time; "Show more" appends the next page.
    let more = ServerAction::<LoadQuestions>::new();
    Effect::new(move |_| {
        if let Some(Ok((next, all))) = more.value().get() {
            questions.update(|q| {
                for item in next {
                    if !q.iter().any(|x| x.id == item.id) {
                        q.push(item);
                    }
                }
            });
            total.set(all);
        }
    });
    let answered = RwSignal::new(None::<String>);
    // `input()` is cleared when the call ends; remember which question was answered.
    let last = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(a) = answer.input().get() {
            last.set(Some(a.conflict_id));
        }
    });
    Effect::new(move |_| {
        if let (Some(Ok(())), Some(id)) = (answer.value().get(), last.get_untracked()) {
            questions.update(|q| q.retain(|x| x.id != id));
            total.update(|t| *t = (*t - 1).max(0));
            answered.set(Some("Thanks — apps now receive your answer.".into()));
            reload_memories.run(());
        }
    });
    view! {
        <section id="questions" class="card" aria-labelledby="questions-h">
            <h2 id="questions-h">"Needs your decision"</h2>
            {move || answered.get().map(|m| view! { <p class="alert alert-success" role="status">{m}</p> })}
            <Show when=move || { total.get() > 0 || !questions.with(Vec::is_empty) } fallback=|| view! {
                <p class="empty">"Nothing needs your decision. When an app hears something that contradicts what is remembered, we ask you here instead of changing it."</p>
            }>
                <p class="muted" role="status">{move || {
                    let (shown, all) = (questions.with(Vec::len) as i64, total.get());
                    if all > shown { format!("Showing {shown} of {all} questions, oldest first.") } else { String::new() }
                }}</p>
                <ul class="question-list">
                    <For each=move || questions.get() key=|q| q.id.clone() let:q>
                        <Question question=q answer=answer/>
                    </For>
                </ul>
                <Show when=move || { total.get() > questions.with(Vec::len) as i64 }>
                    <button type="button" class="button secondary" disabled=move || more.pending().get()
                        on:click=move |_| { more.dispatch(LoadQuestions { offset: questions.with(Vec::len) as i64 }); }>
                        "Show more questions"
                    </button>
                </Show>
            </Show>
            <ActionError error=Signal::derive(move || failure(answer.value().get()))/>
            <ActionError error=Signal::derive(move || failure(more.value().get()))/>
        </section>
    }
}

#[component]
fn Question(question: ConflictQuestion, answer: ServerAction<AnswerQuestion>) -> impl IntoView {
    let heading = format!("q-{}", question.id);
    let heading_ref = heading.clone();
    let from = question.source.clone().map(|s| format!("{s} heard this")).unwrap_or_else(|| "An app heard this".into());
    let choices = [
        (ConflictAnswer::A, "Keep what is remembered"),
        (ConflictAnswer::B, "Use the new one"),
        (ConflictAnswer::Both, "Both are true"),
        (ConflictAnswer::Neither, "Neither is true"),
    ];
    let id = question.id.clone();
    view! {
        <li class="question" aria-labelledby=heading_ref>
            <h3 id=heading>{format!("Which is right? ({})", question.category.label())}</h3>
            <dl class="either">
                <dt>"A — remembered now"</dt>
                <dd>{question.current.clone()}</dd>
                <dt>{format!("B — {from} on {}", human(question.created_at))}</dt>
                <dd>{question.candidate.clone()}</dd>
            </dl>
            <div class="actions" role="group" aria-label="Your answer">
                {choices.into_iter().map(|(choice, label)| {
                    let id = id.clone();
                    view! {
                        <button type="button" class="button secondary small" disabled=move || answer.pending().get()
                            on:click=move |_| { answer.dispatch(AnswerQuestion { conflict_id: id.clone(), answer: choice }); }>
                            {label}
                        </button>
                    }
                }).collect_view()}
            </div>
        </li>
    }
}
