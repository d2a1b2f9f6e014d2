// The Models page's playground: sends the form to /console/models/chat (the API's request path, as the signed-in
// principal) and shows the streamed answer (server-sent events of chat.completion.chunk) as it arrives.
// Served by the enclave itself at /console/playground.js; no inline script anywhere (the CSP allows 'self' only).
"use strict";
(function () {
  const form = document.getElementById("playground");
  if (!form) {
    return;
  }

  const output = document.getElementById("playground-output");
  const status = document.getElementById("playground-status");
  const send = document.getElementById("playground-send");

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    output.textContent = "";
    status.textContent = "Sending…";
    send.disabled = true;
    try {
      const response = await fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" });
      if (!response.ok || !response.body) {
        const text = await response.text();
        let message = text;
        try {
          message = JSON.parse(text).error.message;
        } catch (e) {
          // not an OpenAI error object: show the text as it is
        }
        status.textContent = "Refused (" + response.status + "): " + message;
        return;
      }

      const ledger = response.headers.get("Enclave-Ledger-Index");
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffered = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          break;
        }

        buffered += decoder.decode(value, { stream: true });
        let newline;
        while ((newline = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (!line.startsWith("data:")) {
            continue;
          }

          const data = line.slice(5).trim();
          if (data === "[DONE]") {
            continue;
          }

          const chunk = JSON.parse(data);
          if (chunk.error) {
            status.textContent = "Failed: " + chunk.error.message;
            return;
          }

          for (const choice of chunk.choices || []) {
            if (choice.delta && typeof choice.delta.content === "string") {
              output.textContent += choice.delta.content;
            }
          }
        }
      }

      status.textContent = "Done" + (ledger ? " (ledger entry " + ledger + ")" : "") + ".";
    } catch (e) {
      status.textContent = "Failed: " + e.message;
    } finally {
      send.disabled = false;
    }
  });
})();
