// The Airlock page's bundle upload: sends the chosen file as the request body to /console/airlock/upload (the admin
// API's import code, as the signed-in principal) and shows its progress. XMLHttpRequest, because fetch reports no
// upload progress. Served by the enclave itself at /console/airlock-upload.js; no inline script (the CSP allows 'self').
"use strict";
(function () {
  const form = document.getElementById("upload");
  if (!form) {
    return;
  }

  const file = document.getElementById("upload-file");
  const progress = document.getElementById("upload-progress");
  const status = document.getElementById("upload-status");
  const send = document.getElementById("upload-send");
  const token = form.querySelector("input[name=__RequestVerificationToken]");

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!file.files || file.files.length !== 1) {
      status.textContent = "Choose one bundle file.";
      return;
    }

    const bundle = file.files[0];
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Content-Type", "application/x-tar");
    xhr.setRequestHeader("RequestVerificationToken", token ? token.value : "");
    progress.value = 0;
    status.textContent = "Uploading " + bundle.name + "…";
    send.disabled = true;
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) {
        progress.value = Math.round((e.loaded / e.total) * 100);
      }
    });
    xhr.upload.addEventListener("load", () => {
      progress.value = 100;
      status.textContent = "Uploaded; verifying…";
    });
    xhr.addEventListener("load", () => {
      send.disabled = false;
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch (e) {
        body = null;
      }

      if (xhr.status === 201 && body && body.id) {
        status.textContent = "";
        status.append("Imported: ");
        const link = document.createElement("a");
        link.href = "/console/airlock/" + encodeURIComponent(body.id);
        link.id = "upload-import";
        link.textContent = body.id;
        status.append(link, " (" + (body.state || "verified") + ").");
      } else {
        const detail = body && (body.detail || body.title);
        status.textContent = "Refused (" + xhr.status + "): " + (detail || xhr.responseText || "no answer");
      }
    });
    xhr.addEventListener("error", () => {
      send.disabled = false;
      status.textContent = "Failed: the upload did not reach the enclave.";
    });
    xhr.send(bundle);
  });
})();
