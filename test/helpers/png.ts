import { PNG } from 'pngjs';

/** Pixels darker than mid-grey: rendered text on a white page. */
export function darkPixels(png: Buffer): { dark: number; total: number } {
  const img = PNG.sync.read(png);
  let dark = 0;
  for (let i = 0; i < img.data.length; i += 4) {
    const lum = 0.299 * img.data[i]! + 0.587 * img.data[i + 1]! + 0.114 * img.data[i + 2]!;
    if (lum < 128 && img.data[i + 3]! > 0) dark++;
  }
  return { dark, total: img.width * img.height };
}

/** A page of Helvetica text rendered by pdftoppm at 72 dpi, as base64 PNG: dark glyphs on white. */
export function looksLikeRenderedText(base64Png: string): { ok: boolean; dark: number; total: number } {
  const { dark, total } = darkPixels(Buffer.from(base64Png, 'base64'));
  // 18 glyphs at 36 pt: a few thousand dark pixels; an empty page has none, a failed render all
  return { ok: dark > 1500 && dark < total / 20, dark, total };
}

/** Pixels close to pure red: the heading's colour, which nothing else on the page has. */
export function redPixels(png: Buffer): { red: number; top: number; width: number; height: number } {
  const img = PNG.sync.read(png);
  let red = 0;
  let top = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const i = (y * img.width + x) * 4;
      if (img.data[i]! > 200 && img.data[i + 1]! < 80 && img.data[i + 2]! < 80) {
        red++;
        if (y < img.height / 2) top++;
      }
    }
  }
  return { red, top, width: img.width, height: img.height };
}
