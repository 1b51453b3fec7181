use super::components::PageTitle;
use crate::domain::categories::Category;
use leptos::prelude::*;

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <PageTitle text="Welcome"/>
        <header class="site-header">
            <a class="brand" href="/">"Memory Passport"</a>
            <nav aria-label="Account">
                <a href="/docs/api">"API"</a>
                <a href="/signin">"Sign in"</a>
                <a class="button primary small" href="/signup">"Create account"</a>
            </nav>
        </header>
        <main id="main" class="narrow">
            <h1>"You decide what AI agents remember"</h1>
            <p class="lead">
                "Memory Passport lets a person choose which AI apps may remember and use which parts of their memory, for how long, and take it back at any time."
            </p>
            <div class="columns">
                <section class="card">
                    <h2>"For companies building agents"</h2>
                    <p>"Register your agent, copy its secret into your backend, and send people a consent link. Your agent reads and writes only what they approved."</p>
                    <p><a class="button primary" href="/signup">"Create a tenant account"</a></p>
                </section>
                <section class="card" aria-labelledby="people-h">
                    <h2 id="people-h">"For people"</h2>
                    <p>"Your Memory Passport holds what AI apps remember about you, sorted into six categories:"</p>
                    <ul class="category-list">
                        {Category::ALL.into_iter().map(|c| view! {
                            <li><strong>{c.label()}</strong> " — " {c.description()}</li>
                        }).collect_view()}
                    </ul>
                    <p>"When an app asks to use your memory, you see who is asking, choose the categories and the duration, and can revoke access whenever you like."</p>
                    <p><a class="button primary" href="/manage">"Manage your Memory Passport"</a></p>
                </section>
            </div>
        </main>
    }
}
