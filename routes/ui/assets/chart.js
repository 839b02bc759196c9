// One chart alone (the embeddable form of a chart: ?embed=1 drops the chrome and fits the frame).
import { draw, getJson, setTitle, showError } from "./core.js";

const { id, spec } = document.body.dataset;
const el = document.getElementById("chart");

try {
  const s = await getJson(spec, { ids: [id] });
  const title = typeof s.title === "object" ? s.title?.text : s.title;
  if (title) setTitle(title);
  await draw(el, s);
} catch (e) {
  showError(e, el);
}
