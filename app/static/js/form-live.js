// Form pages with htmx (progressive enhancement: without this file and htmx the page posts as a whole).
// The form posts to its "live" URL on every change; the server answers with the parts that changed, out of band:
// questions shown or hidden by the answer, the error of a field the person has left, a stored file.
(function () {
  "use strict";
  var uploading = null; // the file input whose upload is on its way
  var pressed = false; // a mouse button or finger is down
  var heldBack = []; // fields left by pressing elsewhere: their "change" waits until the press ends

  function liveForm(element) {
    return element && element.closest ? element.closest("[data-live-form]") : null;
  }

  // Leaving a field by pressing on another one (a checkbox, a button) fires the field's "change" at the press.
  // Its answer would swap in the field's error or remove it, and move what is below: the release would then land
  // somewhere else and the click would be lost. So that change waits until the press is over.
  document.addEventListener("pointerdown", function () {
    pressed = true;
  }, true);

  function release() {
    pressed = false;
    window.setTimeout(function () {  // after the click that ends the press
      var fields = heldBack;
      heldBack = [];
      fields.forEach(function (field) {
        if (field.isConnected) {
          field.dispatchEvent(new Event("change", { bubbles: true }));
        }
      });
    }, 0);
  }
  window.addEventListener("pointerup", release, true);
  window.addEventListener("pointercancel", release, true);

  document.addEventListener("change", function (event) {
    var field = event.target;
    if (!pressed || !liveForm(field) || field.type === "file") {
      return;
    }
    event.stopPropagation();
    if (heldBack.indexOf(field) < 0) {
      heldBack.push(field);
    }
  }, true);

  document.addEventListener("htmx:configRequest", function (event) {
    var form = liveForm(event.detail.elt);
    if (!form) {
      return;
    }
    var trigger = event.detail.triggeringEvent ? event.detail.triggeringEvent.target : null;
    var data = event.detail.formData;
    var isFile = trigger && trigger.type === "file";
    if (isFile && trigger.closest(".group-item")) {
      // A file inside a repeating group goes with "Save and continue"; do not send it on every change.
      event.preventDefault();
      return;
    }
    // Send only the file that was just chosen: the others are either stored already or wait for the page.
    form.querySelectorAll("input[type=file]").forEach(function (input) {
      if (input !== trigger && input.name) {
        data.delete(input.name);
      }
    });
    var changed = trigger && trigger.name && trigger.type !== "submit" ? trigger.name : "";
    data.set("_changed", changed);
    // A field still being typed into (a date input fires "change" mid-way) is not checked yet.
    data.set("_focused", trigger && document.activeElement === trigger && !isFile ? "1" : "");
    uploading = isFile && trigger.files && trigger.files.length ? trigger : null;
    if (uploading) {
      var bar = document.getElementById(uploading.id + "-progress");
      if (bar) {
        bar.value = 0;
        bar.hidden = false;
      }
    }
  });

  document.addEventListener("htmx:xhr:progress", function (event) {
    if (!uploading || !event.detail.lengthComputable) {
      return;
    }
    var bar = document.getElementById(uploading.id + "-progress");
    if (bar) {
      bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
    }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    // "Add another": move to the first field of the new item, as a page load would show it. Which group is read
    // from this response's own request: a change sent at the same moment (leaving a field to click the button) has
    // its own response, which must not take the focus.
    var config = event.detail.requestConfig;
    var group = config && config.formData ? config.formData.get("add_item") : null;
    if (!group || !liveForm(event.detail.elt)) {
      return;
    }
    var items = document.querySelectorAll("#slot-" + CSS.escape(group) + " .group-item");
    var last = items.length ? items[items.length - 1] : null;
    var first = last ? last.querySelector("input, select, textarea") : null;
    if (first && document.activeElement !== first) {
      first.focus();
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    if (liveForm(event.detail.elt)) {
      uploading = null;
    }
  });
})();
