// The consent flow's pages (/consent, /complete, /passport/link) are rendered whole on the
// server and work as plain forms (app::forms). They load no WebAssembly: this file is their only
// script (`web::assets::consent_script`). It adds what needs a script, on the markup the Leptos
// components render, reading the words from their data-* attributes:
// - the approve button's words and the "will NOT access" summary follow the choices;
// - an approval that can't be made (no category, no duration) is said on the page, and the
//   person's choices stay as they are;
// - a second click does not send a form twice;
// - the resend button counts down;
// - Copy puts the completion token on the clipboard.
// Then it marks <body data-hydrated>, as the app's own pages do once they are interactive.
(() => {
  "use strict";
  const all = (selector, root) => Array.from((root || document).querySelectorAll(selector));

  /** Puts `text` (or nothing) in `box` as an alert, as the page's Alert component does. */
  function say(box, text) {
    box.replaceChildren();
    if (!text) return;
    const p = document.createElement("p");
    p.className = "alert alert-error";
    p.setAttribute("role", "alert");
    p.textContent = text;
    box.append(p);
  }

  /** The approve button's words, as app::grant_fields::approve_label says them. */
  function approveLabel(app, verb, count, phrase) {
    if (count === 0) return `Allow ${app}`;
    const what = count === 1 ? "1 category" : `${count} categories`;
    return `Allow ${app} to ${verb} ${what}${phrase || ""}`;
  }

  for (const form of all("form[data-consent]")) {
    const approve = form.querySelector("button[value=approve]");
    const summary = form.querySelector("[data-withheld]");
    const problem = form.querySelector("[data-problem]");
    const boxes = all("input[name=categories]", form);
    const picked = (name) => all(`input[name=${name}]`, form).find((i) => i.type === "hidden" || i.checked);
    const update = () => {
      const chosen = boxes.filter((b) => b.checked).length;
      const access = picked("access");
      const duration = picked("duration");
      approve.textContent = approveLabel(approve.dataset.app, access && access.dataset.verb, chosen, duration && duration.dataset.phrase);
      const withheld = boxes.filter((b) => !b.checked).map((b) => b.dataset.label);
      summary.textContent = withheld.length ? `This app will NOT access: ${withheld.join(", ")}.` : "This app may use every category.";
    };
    form.addEventListener("change", () => {
      say(problem, "");
      update();
    });
    form.addEventListener("submit", (ev) => {
      // Enter in a field submits with the first button, approve.
      if ((ev.submitter || approve) !== approve) return;
      const missing = !boxes.some((b) => b.checked) ? form.dataset.needCategory : !picked("duration") ? form.dataset.needDuration : "";
      if (missing) {
        ev.preventDefault();
        say(problem, missing);
      }
    });
  }

  // Every form of these pages: sent once. (Disabling the buttons instead would drop the
  // clicked button's name and value from the post.)
  for (const form of all("form")) {
    form.addEventListener("submit", (ev) => {
      if (ev.defaultPrevented) return;
      if (form.dataset.sent) ev.preventDefault();
      form.dataset.sent = "1";
      form.setAttribute("aria-busy", "true");
    });
  }

  // Back to a page the browser kept: its forms can be sent again.
  window.addEventListener("pageshow", (ev) => {
    if (!ev.persisted) return;
    for (const form of all("form")) {
      delete form.dataset.sent;
      form.removeAttribute("aria-busy");
    }
  });

  for (const button of all("button[data-wait]")) {
    let left = Number(button.dataset.wait) || 0;
    if (left <= 0) continue;
    const words = button.textContent.replace(/\s*\(in \d+ s\)$/, "");
    const tick = setInterval(() => {
      left -= 1;
      button.dataset.wait = String(left);
      button.textContent = left > 0 ? `${words} (in ${left} s)` : words;
      if (left <= 0) {
        button.disabled = false;
        clearInterval(tick);
      }
    }, 1000);
  }

  for (const button of all("button[data-copy]")) {
    const source = document.getElementById(button.dataset.copy);
    const status = button.closest("section") && button.closest("section").querySelector("[data-copied]");
    button.addEventListener("click", () => {
      if (!source || !navigator.clipboard) return;
      navigator.clipboard.writeText(source.value).then(() => {
        if (status) status.textContent = "Copied to the clipboard.";
      }, () => {});
    });
  }

  document.body.setAttribute("data-hydrated", "");
})();
