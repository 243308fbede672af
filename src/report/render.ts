// Renders Vega-Lite specs headlessly: to SVG with vega's scenegraph (no browser, no canvas), and
// SVG to PNG with resvg (a Rust rasterizer shipped as a prebuilt npm binary; it draws text
// with the system's fonts).
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Renders a Vega-Lite spec to SVG; idPrefix keeps element ids unique within one page. */
export async function renderSvg(spec: TopLevelSpec, idPrefix: string): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return scopeSvgIds(await view.toSVG(), idPrefix);
  } finally {
    view.finalize();
  }
}

/** PNG of an SVG at `scale` times its size (2 gives crisp text on high-density screens and in slides). */
export function svgToPng(svg: string, scale = 2): Uint8Array {
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return resvg.render().asPng();
}

/**
 * Vega names clip paths and gradients "clip1", "gradient1"… in every SVG; ids are global in an
 * HTML page, so several inline SVGs would clip each other's marks. Prefix them per plot.
 */
export function scopeSvgIds(svg: string, prefix: string): string {
  return svg.replace(/\bid="([^"]+)"/g, `id="${prefix}-$1"`).replace(/url\(#([^)]+)\)/g, `url(#${prefix}-$1)`);
}
