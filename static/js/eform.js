/* eForms: progressive enhancement of templates/portal/eform/form.html, no framework.
 *
 * - shows and hides fields by their condition (data-show-if);
 * - adds and removes the rows of repeating groups (the <template> row is cloned, "__i__" becomes the row index);
 * - loads a province's communes into the commune select (GET /api/v1/units/communes/?province=<code>);
 * - in the back-office editor, inserts ready-made fields into the JSON (data-eform-snippet).
 *
 * Without it every field shows, each group offers a spare blank row, and the server checks everything anyway.
 */
(function () {
  "use strict";
  if (window.eform) {
    return;
  }

  function controls(root, name) {
    return Array.prototype.filter.call(root.querySelectorAll("input, select, textarea"), function (el) {
      return el.name === name;
    });
  }

  function hidden(el) {
    return el.closest("[hidden]") !== null;
  }

  // The value of a field as the conditions compare it; a hidden field has none.
  function valueOf(root, name) {
    var els = controls(root, name);
    if (!els.length || hidden(els[0])) {
      return null;
    }
    var first = els[0];
    if (first.type === "radio") {
      var chosen = els.filter(function (el) { return el.checked; })[0];
      return chosen ? chosen.value : null;
    }
    if (first.type === "checkbox") {
      if (first.closest("[data-eform-multi]")) {
        return els.filter(function (el) { return el.checked; }).map(function (el) { return el.value; });
      }
      return first.checked;
    }
    if (first.multiple) {
      return Array.prototype.map.call(first.selectedOptions, function (o) { return o.value; });
    }
    return first.value;
  }

  function matches(condition, value) {
    var wanted = Object.prototype.hasOwnProperty.call(condition, "equals") ? [condition.equals] : condition["in"] || [];
    var got = Array.isArray(value) ? value : [value];
    return got.some(function (g) {
      return wanted.some(function (w) {
        if (typeof w === "boolean" || typeof g === "boolean") {
          return g === w;
        }
        return g !== null && g !== "" && String(g) === String(w);
      });
    });
  }

  // Conditions refer to fields above them, so one pass in document order settles chains.
  function applyConditions(form) {
    form.querySelectorAll("[data-show-if]").forEach(function (el) {
      var condition;
      try {
        condition = JSON.parse(el.getAttribute("data-show-if"));
      } catch (e) {
        return;
      }
      el.hidden = !matches(condition, valueOf(form, condition.field));
    });
  }

  function blank(row) {
    return Array.prototype.every.call(row.querySelectorAll("input, select, textarea"), function (el) {
      if (el.hasAttribute("data-eform-province")) {
        return true;
      }
      if (el.type === "checkbox" || el.type === "radio") {
        return !el.checked;
      }
      return el.value === "";
    });
  }

  function rowsOf(group) {
    return Array.prototype.slice.call(group.querySelector(".eform-rows").children);
  }

  function refreshGroup(group) {
    var rows = rowsOf(group);
    var min = parseInt(group.getAttribute("data-min"), 10) || 0;
    var max = parseInt(group.getAttribute("data-max"), 10) || 1;
    rows.forEach(function (row, i) {
      row.querySelectorAll("[data-eform-number]").forEach(function (n) {
        // Only the row's own numbers (its legend and its remove button), not those of nested content.
        if (n.closest(".eform-row") === row) {
          n.textContent = String(i + 1);
        }
      });
      var remove = row.querySelector("[data-eform-remove]");
      if (remove) {
        remove.hidden = rows.length <= min;
      }
    });
    var add = group.querySelector("[data-eform-add]");
    if (add) {
      add.hidden = rows.length >= max;
    }
  }

  function addRow(group) {
    var template = group.querySelector("template[data-eform-template]");
    var next = rowsOf(group).reduce(function (n, row) {
      return Math.max(n, (parseInt(row.getAttribute("data-eform-row"), 10) || 0) + 1);
    }, 0);
    var holder = document.createElement("div");
    holder.innerHTML = template.innerHTML.split("__i__").join(String(next));
    var row = holder.querySelector(".eform-row");
    group.querySelector(".eform-rows").appendChild(row);
    refreshGroup(group);
    var form = group.closest("[data-eform]");
    applyConditions(form);
    var first = row.querySelector("input:not([type=hidden]), select, textarea");
    if (first) {
      first.focus();
    }
  }

  function removeRow(button) {
    var row = button.closest(".eform-row");
    var group = button.closest("[data-eform-group]");
    row.parentNode.removeChild(row);
    refreshGroup(group);
    applyConditions(group.closest("[data-eform]"));
    var add = group.querySelector("[data-eform-add]");
    if (add && !add.hidden) {
      add.focus();
    }
  }

  function loadCommunes(form, select) {
    var commune = document.getElementById(select.getAttribute("data-commune"));
    var url = form.getAttribute("data-communes-url");
    if (!commune || !url) {
      return;
    }
    var placeholder = commune.options.length && commune.options[0].value === "" ? commune.options[0] : null;
    var fill = function (units) {
      while (commune.options.length) {
        commune.remove(0);
      }
      if (placeholder) {
        commune.add(placeholder);
      }
      units.forEach(function (unit) {
        commune.add(new Option(unit.name, unit.code));
      });
    };
    if (!select.value) {
      fill([]);
      return;
    }
    commune.setAttribute("aria-busy", "true");
    fetch(url + "?province=" + encodeURIComponent(select.value), { headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : Promise.reject(response.status);
      })
      .then(fill)
      .catch(function () { /* the server asks for the commune again if the list is stale */ })
      .then(function () {
        commune.removeAttribute("aria-busy");
      });
  }

  function setup(form) {
    if (form.hasAttribute("data-eform-ready")) {
      return;
    }
    form.setAttribute("data-eform-ready", "");
    form.classList.add("eform-js");
    form.querySelectorAll("[data-eform-group]").forEach(function (group) {
      // The spare blank row is for pages without the script: here the "Add" button does it.
      var min = parseInt(group.getAttribute("data-min"), 10) || 0;
      rowsOf(group).forEach(function (row) {
        if (row.hasAttribute("data-eform-spare") && blank(row) && rowsOf(group).length > min) {
          row.parentNode.removeChild(row);
        }
      });
      refreshGroup(group);
    });
    form.addEventListener("change", function (event) {
      if (event.target.hasAttribute("data-eform-province")) {
        loadCommunes(form, event.target);
      }
      applyConditions(form);
    });
    form.addEventListener("input", function () {
      applyConditions(form);
    });
    form.addEventListener("click", function (event) {
      var add = event.target.closest("[data-eform-add]");
      if (add) {
        addRow(add.closest("[data-eform-group]"));
        return;
      }
      var remove = event.target.closest("[data-eform-remove]");
      if (remove) {
        removeRow(remove);
      }
    });
    applyConditions(form);
  }

  // Back-office editor: a ready-made field appended to the schema in the textarea.
  function insertSnippet(button) {
    var area = document.getElementById(button.getAttribute("data-target"));
    var status = document.getElementById(button.getAttribute("data-status"));
    var schema;
    try {
      schema = area.value.trim() ? JSON.parse(area.value) : {};
    } catch (e) {
      if (status) {
        status.hidden = false;
      }
      return;
    }
    if (status) {
      status.hidden = true;
    }
    if (!schema || typeof schema !== "object" || Array.isArray(schema)) {
      schema = {};
    }
    schema.version = schema.version || 1;
    schema.fields = Array.isArray(schema.fields) ? schema.fields : [];
    var field = JSON.parse(button.getAttribute("data-eform-snippet"));
    if (field.name) {
      var names = schema.fields.map(function (f) { return f && f.name; });
      var base = field.name;
      for (var n = 2; names.indexOf(field.name) !== -1; n++) {
        field.name = base + "_" + n;
      }
    }
    schema.fields.push(field);
    area.value = JSON.stringify(schema, null, 2);
    area.dispatchEvent(new Event("input", { bubbles: true }));
    area.focus();
  }

  function init(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches("[data-eform]")) {
      setup(scope);
    }
    scope.querySelectorAll("[data-eform]").forEach(setup);
    scope.querySelectorAll("[data-eform-snippets]").forEach(function (bar) {
      bar.hidden = false;
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-eform-snippet]");
    if (button) {
      insertSnippet(button);
    }
  });
  // Content swapped in by htmx (the back-office preview) is set up as it arrives.
  document.addEventListener("htmx:load", function (event) {
    init(event.detail && event.detail.elt);
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else {
    init(document);
  }
  window.eform = { init: init };
})();
