// Form pages with htmx (progressive enhancement: without this file and htmx the page posts as a whole).
// The form posts to its "live" URL on every change; the server answers with the parts that changed, out of band:
// questions shown or hidden by the answer, the error of a field the person has left, a stored file.
(function () {
  "use strict";
  var uploading = null; // the file input whose upload is on its way
  var adding = null; // the group whose "Add another" is on its way (its button is replaced by the answer)

  function liveForm(element) {
    return element && element.closest ? element.closest("[data-live-form]") : null;
  }

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
    adding = trigger && trigger.name === "add_item" ? trigger.value : null;
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
    if (!liveForm(event.detail.elt) || adding === null) {
      return;
    }
    // "Add another": move to the first field of the new item, as a page load would show it. The button that was
    // clicked is gone (the group was replaced), so the group was remembered when the request was made.
    var items = document.querySelectorAll("#slot-" + CSS.escape(adding) + " .group-item");
    var last = items.length ? items[items.length - 1] : null;
    var first = last ? last.querySelector("input, select, textarea") : null;
    adding = null;
    if (first) {
      first.focus();
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    if (liveForm(event.detail.elt)) {
      uploading = null;
    }
  });
})();
