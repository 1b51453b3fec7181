use super::components::PageTitle;
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
                <section class="card">
                    <h2>"For people"</h2>
                    <p>"When an app asks to use your memory, you see who is asking and what for, choose the categories and the duration, and can revoke access whenever you like."</p>
                </section>
            </div>
        </main>
    }
}
