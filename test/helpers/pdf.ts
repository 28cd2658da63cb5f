import { inflateSync } from 'node:zlib';

/**
 * A one-page PDF whose text is set in Helvetica, one of the standard 14 fonts, not embedded:
 * rendering it needs fontconfig to find a substitute, which is what a relocated layer gets wrong.
 */
export function helveticaPdf(text: string): Buffer {
  const content = `BT /F1 36 Tf 72 700 Td (${text.replace(/([()\\])/g, '\\$1')}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** The streams of a PDF, inflated where FlateDecode: where the fonts and their descriptors are. */
export function pdfObjects(pdf: Buffer): string {
  const text = pdf.toString('latin1');
  const out = [text];
  for (let at = text.indexOf('stream'); at >= 0; at = text.indexOf('stream', at + 6)) {
    const start = text[at + 6] === '\r' ? at + 8 : at + 7;
    const end = text.indexOf('endstream', start);
    if (end < 0) break;
    try {
      out.push(inflateSync(pdf.subarray(start, end)).toString('latin1'));
    } catch {
      // not deflated (an embedded font's own stream), or not a stream keyword
    }
    at = end;
  }
  return out.join('\n');
}
