// Draws each chart from the Vega-Lite spec the page carries (JSON, never executed as script).
document.addEventListener("DOMContentLoaded", () => {
  for (const figure of document.querySelectorAll("figure.chart")) {
    const spec = JSON.parse(figure.querySelector("script.chart-spec").textContent);
    const target = document.createElement("div");
    figure.appendChild(target);
    window.vegaEmbed(target, spec, { actions: false, renderer: "svg" })
      .then(() => figure.setAttribute("data-drawn", "true"))
      .catch((error) => { target.textContent = "The chart could not be drawn: " + error; });
  }
});
