// Warns a signed-in person before their session ends, lets them stay signed in, and loses nothing when it ends.
// Progressive enhancement only: without this file the server still ends the session, and a form posted afterwards
// is kept for the same page (app/access.py). Everything the script shows comes translated from the page
// (partials/auth/_session_timeout.html); the times are seconds from now, computed on the server.
(function () {
  "use strict";
  var dialog = document.getElementById("session-timeout");
  var texts = document.getElementById("session-timeout-texts");
  if (!dialog || !texts || typeof dialog.showModal !== "function" || !window.fetch) {
    return;
  }
  var TICK_MS = 1000;
  // Screen readers hear the remaining time in the status line; it changes at most this often (and only when the
  // words change: whole minutes, then "less than a minute"), so nobody is interrupted every second.
  var ANNOUNCE_MS = 15000;
  var STORAGE_KEY = "portal-session-activity";
  var data = dialog.dataset;
  var idleLimit = Number(data.idleLimitSeconds) * 1000;
  // Warn SESSION_WARNING_SECONDS ahead, or at once when the idle limit itself is shorter than that.
  var lead = Math.min(Number(data.warningSeconds) * 1000, idleLimit);
  var idleEnd = 0;
  var absoluteEnd = 0;
  var state = "closed"; // closed | idle | absolute | ended
  var busy = false;
  var dismissed = false; // "Continue" on the warning that cannot be extended: not shown again
  var lastAnnounced = { text: "", at: 0 };
  var returnFocus = null;
  var signInBase = null; // from the server's 401 answer: a signed-in page carries no sign-in address
  var title = document.getElementById("session-timeout-title");
  var body = document.getElementById("session-timeout-text");
  var time = document.getElementById("session-timeout-time");
  var stay = dialog.querySelector("[data-session-stay]");
  var carryOn = dialog.querySelector("[data-session-continue]");
  var signOut = dialog.querySelector("[data-session-sign-out]");
  var signIn = dialog.querySelector("[data-session-sign-in]");

  function text(name) {
    var found = texts.content.querySelector('[data-text="' + name + '"]');
    return found ? found.textContent.trim() : "";
  }

  function minutesText(minutes) {
    var found = texts.content.querySelector('[data-minutes="' + minutes + '"]');
    if (!found) {
      var all = texts.content.querySelectorAll("[data-minutes]");
      found = all[all.length - 1];
    }
    return found ? found.textContent.trim() : "";
  }

  function setTimes(seconds) {
    var now = Date.now();
    idleEnd = now + Number(seconds.idle) * 1000;
    absoluteEnd = now + Number(seconds.absolute) * 1000;
  }

  function remaining() {
    return Math.min(idleEnd, absoluteEnd) - Date.now();
  }

  function here() {
    return window.location.pathname + window.location.search;
  }

  // Go to sign in and come back here; without the address, reloading lets the server send us there.
  function goToSignIn() {
    if (signInBase) {
      window.location.assign(signInBase + "?next=" + encodeURIComponent(here()));
    } else {
      window.location.reload();
    }
  }

  // The form of this page that posts back to this same address (a page of the application form).
  function recoverableForm() {
    var forms = document.querySelectorAll("main form");
    for (var i = 0; i < forms.length; i += 1) {
      var form = forms[i];
      if ((form.getAttribute("method") || "").toLowerCase() === "post" &&
          new URL(form.action, window.location.href).pathname === window.location.pathname) {
        return form;
      }
    }
    return null;
  }

  function announce(force) {
    var left = remaining();
    var words = left < 60000 ? text("less-than-a-minute") : minutesText(Math.ceil(left / 60000));
    var now = Date.now();
    if (words !== lastAnnounced.text && (force || now - lastAnnounced.at >= ANNOUNCE_MS)) {
      time.textContent = words;
      lastAnnounced = { text: words, at: now };
    }
  }

  function show(newState) {
    var opening = state === "closed";
    state = newState;
    title.textContent = text(newState + "-title");
    body.textContent = text(newState + "-body");
    stay.hidden = newState !== "idle";
    carryOn.hidden = newState !== "absolute";
    signOut.hidden = newState === "ended";
    signIn.hidden = newState !== "ended";
    if (newState === "ended") {
      time.textContent = "";
      if (signInBase) {
        signIn.href = signInBase + "?next=" + encodeURIComponent(here());
      }
    } else {
      announce(true);
    }
    if (opening) {
      returnFocus = document.activeElement;
      dialog.showModal();
    }
    // Focus the way out of this state: the main button, or the heading once the session has ended.
    (newState === "idle" ? stay : newState === "absolute" ? carryOn : title).focus();
  }

  function close() {
    if (state === "closed") {
      return;
    }
    state = "closed";
    dialog.close();
    if (returnFocus && typeof returnFocus.focus === "function") {
      returnFocus.focus();
    }
  }

  function request(method, url) {
    var options = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (method === "POST") {
      options.headers["X-CSRFToken"] = data.csrfToken;
    }
    return fetch(url, options).then(function (response) {
      if (response.status === 401) {
        return response.json().then(function (answer) {
          signInBase = answer.sign_in_url || null;
          return null;
        }, function () {
          return null;
        });
      }
      if (!response.ok) {
        throw new Error("session " + response.status);
      }
      return response.json();
    });
  }

  function apply(seconds) {
    setTimes({ idle: seconds.idle_seconds, absolute: seconds.absolute_seconds });
    if (remaining() > lead) {
      close();
    } else if (seconds.can_be_extended) {
      show("idle");
    } else if (!dismissed) {
      show("absolute");
    }
  }

  function dismiss() {
    dismissed = true;
    close();
  }

  // The session has ended on the server: post this page's form so the server keeps what was typed and sends the
  // person to sign in and back (the hidden field tells it never to act on this post), or go to sign in from here.
  function ended() {
    state = "ended";
    var form = recoverableForm();
    if (form) {
      var marker = document.createElement("input");
      marker.type = "hidden";
      marker.name = "session_expired";
      marker.value = "1";
      form.appendChild(marker);
      HTMLFormElement.prototype.submit.call(form);
    } else {
      goToSignIn();
    }
  }

  // Ask the server before warning or leaving: another tab may have kept the session alive.
  function check() {
    if (busy) {
      return;
    }
    busy = true;
    request("GET", data.statusUrl).then(function (seconds) {
      busy = false;
      if (seconds === null) {
        ended();
      } else {
        apply(seconds); // at 0 s the server may still count the last second: the next tick asks again
      }
    }, function () {
      busy = false;
      if (remaining() <= 0) {
        goToSignIn();
      }
    });
  }

  function extend() {
    if (busy) {
      return;
    }
    busy = true;
    stay.setAttribute("aria-disabled", "true");
    request("POST", data.extendUrl).then(function (seconds) {
      busy = false;
      stay.removeAttribute("aria-disabled");
      if (seconds === null) {
        show("ended");
        return;
      }
      apply(seconds);
      try {
        window.localStorage.setItem(STORAGE_KEY, String(Date.now()));
      } catch (ignored) {
        // Storage may be switched off; the other tabs ask the server before they warn anyway.
      }
    }, function () {
      busy = false;
      stay.removeAttribute("aria-disabled");
      time.textContent = text("failed");
      lastAnnounced = { text: time.textContent, at: Date.now() };
    });
  }

  function tick() {
    if (state === "ended" || busy) {
      return;
    }
    var left = remaining();
    if (left <= 0) {
      check();
    } else if (state === "closed" && left <= lead && !dismissed) {
      check();
    } else if (state !== "closed") {
      announce(false);
    }
  }

  setTimes({ idle: data.idleSeconds, absolute: data.absoluteSeconds });
  stay.addEventListener("click", extend);
  carryOn.addEventListener("click", dismiss);
  // Signing in again from the dialog keeps what was typed on this page, as the end of the session does.
  signIn.addEventListener("click", function (event) {
    if (recoverableForm() || !signInBase) {
      event.preventDefault();
      ended();
    }
  });
  // Escape closes a modal dialog: here it means "I am still here", like the main button.
  dialog.addEventListener("cancel", function (event) {
    event.preventDefault();
    if (state === "idle") {
      extend();
    } else if (state === "absolute") {
      dismiss();
    }
  });
  // A request of this page through htmx counts as activity on the server too.
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail && event.detail.successful && state === "closed") {
      idleEnd = Date.now() + idleLimit;
    }
  });
  // Another tab kept the session alive, or this tab comes back from the background (timers slow down there).
  window.addEventListener("storage", function (event) {
    if (event.key === STORAGE_KEY && state !== "ended") {
      check();
    }
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && state !== "ended") {
      check();
    }
  });
  window.setInterval(tick, TICK_MS);
})();
