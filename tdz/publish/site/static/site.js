// tdz results site: the pool pickers, the row filters and the rider search. No framework, works from file://.
"use strict";

// Pool pickers: every pool is a page of its own; open the page whose dimensions match every picker.
function poolPickers(form) {
  const choices = window.tdzPools || [];  // pools.js: every pool's page and dimension values
  const note = form.querySelector(".picker-note");
  const selects = Array.from(form.querySelectorAll("select"));
  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("change", () => {
    const wanted = Object.fromEntries(selects.map((s) => [s.name, s.value]));
    const pool = choices.find((c) => selects.every((s) => (c.dims[s.name] || "") === wanted[s.name]));
    if (pool) {
      note.textContent = "";
      window.location.href = pool.slug + ".html";
    } else {
      note.textContent = "This season has no pool for that combination: change one of the choices.";
    }
  });
}

function countRows(table, note) {
  const rows = table.tBodies[0].rows;
  const shown = Array.from(rows).filter((r) => !r.hidden).length;
  note.textContent = shown === rows.length ? "" : shown + " of " + rows.length + " riders shown";
}

// Row filters: show only the rows whose data-<name> attribute is the chosen value ("" shows every row).
function rowFilters(form) {
  const table = document.getElementById(form.dataset.rowFilters);
  const note = form.querySelector(".picker-note");
  const selects = Array.from(form.querySelectorAll("select"));
  const apply = () => {
    for (const row of table.tBodies[0].rows) {
      row.hidden = !selects.every((s) => s.value === "" || row.dataset[s.name] === s.value);
    }
    countRows(table, note);
    const chosen = selects.filter((s) => s.value).map((s) => s.name + "=" + s.value).join("&");
    try {
      history.replaceState(null, "", chosen ? "#" + chosen : window.location.pathname + window.location.search);
    } catch (e) {
      // some browsers refuse history changes on file:// pages; the filter still works
    }
  };
  const fromHash = new URLSearchParams(window.location.hash.slice(1));
  for (const s of selects) {
    if (fromHash.has(s.name)) s.value = fromHash.get(s.name);
  }
  form.addEventListener("change", apply);
  if (selects.some((s) => s.value)) apply();
}

// Rider search: hide the rows that do not contain every word typed.
function rowSearch(form) {
  const table = document.getElementById(form.dataset.rowSearch);
  const note = form.querySelector(".picker-note");
  const input = form.querySelector("input");
  const texts = Array.from(table.tBodies[0].rows, (r) => [r, r.textContent.toLocaleLowerCase()]);
  form.addEventListener("submit", (event) => event.preventDefault());
  input.addEventListener("input", () => {
    const words = input.value.toLocaleLowerCase().split(/\s+/).filter(Boolean);
    for (const [row, text] of texts) row.hidden = !words.every((w) => text.includes(w));
    countRows(table, note);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form[data-pool-pickers]").forEach(poolPickers);
  document.querySelectorAll("form[data-row-filters]").forEach(rowFilters);
  document.querySelectorAll("form[data-row-search]").forEach(rowSearch);
});
