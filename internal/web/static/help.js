// Sportello help centre script. The pages work without it; on the
// contact form it suggests articles while the customer writes (counting
// the ones opened: deflection).
const form = document.querySelector("form[data-suggest]");
if (form) {
  const box = document.getElementById("suggestions");
  const list = box.querySelector("ul");
  const subject = document.getElementById("c-subject");
  const body = document.getElementById("c-body");
  let timer = null, asked = 0;
  const ask = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = (subject.value + " " + body.value.slice(0, 300)).trim();
      if (q.length < 4) { box.hidden = true; return; }
      const n = ++asked;
      try {
        const res = await fetch(form.dataset.suggest + "?q=" + encodeURIComponent(q), { headers: { "Accept": "application/json" } });
        if (!res.ok || n !== asked) return;
        const rows = await res.json();
        list.replaceChildren(...rows.map((r) => {
          const li = document.createElement("li");
          const a = document.createElement("a");
          a.href = r.name;
          a.target = "_blank";
          a.rel = "noopener";
          a.textContent = r.label;
          a.addEventListener("click", () => navigator.sendBeacon(form.dataset.deflect, new URLSearchParams({ article: String(r.id) })));
          li.append(a);
          return li;
        }));
        box.hidden = rows.length === 0;
      } catch (e) { console.warn("suggestions", e); }
    }, 300);
  };
  subject.addEventListener("input", ask);
  body.addEventListener("input", ask);
}
