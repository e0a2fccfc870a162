// One click in the survey mail answers: the page that click opens posts the chosen CSAT at once. A mail scanner
// that fetches every link of the mail runs no script, so it answers nothing; a page prerendered or opened in a
// background tab waits until it is shown. The form below then adds the CES answer and a comment.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form.survey[data-auto='1']");
  if (!form) return;
  let sent = false;
  const post = () => {
    if (sent || document.visibilityState !== "visible") return;
    sent = true;
    const body = new URLSearchParams({ csat: form.dataset.csat, auto: "1" });
    fetch(form.action, { method: "POST", body, credentials: "omit" }).then((answer) => {
      if (answer.ok) document.getElementById("recorded").hidden = false;
    });
  };
  document.addEventListener("visibilitychange", post);
  post();
});
