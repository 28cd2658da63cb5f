import { describe, expect, it } from 'vitest';
import type { LayerManifest } from '../../src/format/layer-manifest.js';
import { layerSbom, packageUrl, sbomPathFor, type CycloneDxBom } from '../../src/sbom/cyclonedx.js';
import { dep5ExpressionToSpdx, dep5Licenses, licenseFromCopyright, stagedLicenses } from '../../src/sbom/licenses.js';
import { file, symlink, treeOf } from '../helpers/tree.js';
import { cycloneDxValidator } from '../helpers/cyclonedx.js';

const DEP5 = `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: jq
Source: https://github.com/stedolan/jq

Files: *
Copyright: 2012 Stephen Dolan
License: Expat

Files: src/jv_dtoa.c
Copyright: 1991, 2000, 2001 Lucent Technologies
License: MIT

Files: docs/*
Copyright: 2012 Stephen Dolan
License: CC-BY-3.0

Files: debian/*
Copyright: 2013 Simon Elsbrock
License: GPL-2.0+

License: Expat
 Permission is hereby granted, free of charge, to any person obtaining a copy
 of this software ...
`;

describe('licenses from Debian copyright files', () => {
  it('reads the License fields of a DEP-5 file, leaving out the packaging and the license texts', () => {
    expect(dep5Licenses(DEP5)).toEqual(['Expat', 'MIT', 'CC-BY-3.0']);
    expect(licenseFromCopyright(DEP5)).toEqual({ declared: ['Expat', 'MIT', 'CC-BY-3.0'], spdx: 'MIT AND CC-BY-3.0', source: 'dep5' });
  });

  it("maps DEP-5 names to SPDX by DEP-5's own rules (+ is or-later), and leaves unknown names unmapped", () => {
    expect(dep5ExpressionToSpdx('GPL-2+')).toBe('GPL-2.0-or-later');
    expect(dep5ExpressionToSpdx('GPL-2')).toBe('GPL-2.0-only');
    expect(dep5ExpressionToSpdx('LGPL-2.1+ or MPL-1.1')).toBe('LGPL-2.1-or-later OR MPL-1.1');
    expect(dep5ExpressionToSpdx('BSD-3-clause')).toBe('BSD-3-Clause');
    expect(dep5ExpressionToSpdx('GPL-2 or GPL-3')).toBe('GPL-2.0-only OR GPL-3.0-only');
    expect(dep5ExpressionToSpdx('public-domain')).toBeUndefined();
    expect(dep5ExpressionToSpdx('GPL-2+ with OpenSSL exception')).toBeUndefined();
  });

  it('takes /usr/share/common-licenses references from free-form files, without claiming an SPDX expression', () => {
    const text =
      "Copyright 2000 Someone\n\nOn Debian systems, the complete text of the GNU Lesser General Public\nLicense can be found in `/usr/share/common-licenses/LGPL-2.1'.\n";
    expect(licenseFromCopyright(text)).toEqual({ declared: ['LGPL-2.1'], source: 'common-licenses' });
    expect(licenseFromCopyright('Permission to use, copy, modify ... is hereby granted')).toEqual({ declared: [], source: 'free-form' });
  });

  it("finds each package's copyright file in the staged tree, through a symlinked doc directory", () => {
    const staged = treeOf([file('/usr/share/doc/libjq1/copyright', DEP5), symlink('/usr/share/doc/jq', 'libjq1'), file('/usr/bin/jq', 'ELF')]);
    const pkgs = ['jq', 'libjq1', 'nodoc'].map((name) => ({
      name,
      version: '1',
      arch: 'amd64',
      downloadSize: 0,
      installedSize: 0,
      requiredBy: [],
      requested: false,
      provides: [],
      depends: [],
    }));
    const rpm = { ...pkgs[0]!, name: 'rpmpkg', license: 'MIT AND BSD-3-Clause' };
    const got = stagedLicenses(staged, [...pkgs, rpm]);
    expect(got.get('jq')).toEqual(got.get('libjq1'));
    expect(got.get('jq')!.spdx).toBe('MIT AND CC-BY-3.0');
    expect(got.get('nodoc')).toEqual({ declared: [], source: 'none' });
    expect(got.get('rpmpkg')).toEqual({ declared: ['MIT AND BSD-3-Clause'], spdx: 'MIT AND BSD-3-Clause', source: 'rpm-header' });
  });
});

describe('CycloneDX SBOM of a layer', () => {
  const manifest: LayerManifest = {
    manifestVersion: 1,
    tool: { name: 'yumda', version: '0.1.0' },
    target: 'debian12',
    arch: 'x86_64',
    runtime: 'debian12',
    requested: ['jq'],
    packages: [
      { name: 'libonig5', version: '6.9.8-1', arch: 'amd64', sourcePackage: 'libonig', requiredBy: ['jq'], files: 2, bytes: 600_000 },
      { name: 'libx11-6', version: '2:1.8.4-2+deb12u2', arch: 'amd64', sourcePackage: 'libx11', requiredBy: ['jq'], files: 2, bytes: 1 },
      { name: 'jq', version: '1.6-2.1+deb12u3', arch: 'amd64', sourcePackage: 'jq', requiredBy: ['jq'], files: 1, bytes: 67_000 },
    ],
    generatedBytes: 0,
    env: {},
    recipes: [],
  };
  const input = {
    name: 'tools',
    manifest,
    distro: { name: 'debian', version: '12' },
    family: 'deb' as const,
    licenses: new Map([
      ['jq', licenseFromCopyright(DEP5)],
      ['libonig5', { declared: ['BSD-2-clause', 'public-domain'], source: 'dep5' as const }],
    ]),
    checksums: new Map([['jq', 'ab'.repeat(32)]]),
  };

  it("is valid CycloneDX 1.5, lists exactly the manifest's packages with name, version, arch, license and source package", () => {
    const bom: CycloneDxBom = layerSbom(input);
    const validate = cycloneDxValidator();
    expect(validate(bom), JSON.stringify(validate.errors)).toBe(true);
    expect(bom.components.map((c) => `${c.name}@${c.version}`)).toEqual(manifest.packages.map((p) => `${p.name}@${p.version}`));
    const jq = bom.components.find((c) => c.name === 'jq')!;
    expect(jq.purl).toBe('pkg:deb/debian/jq@1.6-2.1%2Bdeb12u3?arch=amd64&distro=debian-12');
    expect(jq.licenses).toEqual([{ expression: 'MIT AND CC-BY-3.0' }]);
    expect(jq.hashes).toEqual([{ alg: 'SHA-256', content: 'ab'.repeat(32) }]);
    const onig = bom.components.find((c) => c.name === 'libonig5')!;
    expect(onig.purl).toBe('pkg:deb/debian/libonig5@6.9.8-1?arch=amd64&distro=debian-12&upstream=libonig');
    expect(onig.licenses).toEqual([{ license: { id: 'BSD-2-Clause' } }, { license: { name: 'public-domain' } }]);
    expect(Object.fromEntries(onig.properties.map((p) => [p.name, p.value]))).toMatchObject({
      'yumda:package:arch': 'amd64',
      'yumda:package:sourcePackage': 'libonig',
      'yumda:package:licenseSource': 'dep5',
    });
    expect(bom.components.find((c) => c.name === 'libx11-6')!.purl).toBe('pkg:deb/debian/libx11-6@2%3A1.8.4-2%2Bdeb12u2?arch=amd64&distro=debian-12&upstream=libx11');
  });

  it('is the same bytes for the same layer (no timestamp; the serial number comes from the content)', () => {
    expect(JSON.stringify(layerSbom(input))).toBe(JSON.stringify(layerSbom(input)));
    expect(layerSbom(input).serialNumber).not.toBe(layerSbom({ ...input, name: 'other' }).serialNumber);
    expect(layerSbom(input).serialNumber).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('names rpm packages as rpm purls, and sits beside the zip', () => {
    expect(packageUrl('rpm', { name: 'amzn', version: '2023' }, { name: 'poppler', version: '22.01.0-6.amzn2023', arch: 'aarch64', sourcePackage: 'poppler' })).toBe(
      'pkg:rpm/amzn/poppler@22.01.0-6.amzn2023?arch=aarch64&distro=amzn-2023',
    );
    expect(sbomPathFor('/x/dist/poppler-x86_64.zip')).toBe('/x/dist/poppler-x86_64.cdx.json');
  });
});
