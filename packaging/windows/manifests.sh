#!/usr/bin/env bash
# packaging/windows/manifests.sh TAG PKGVER DIST writes the winget and Scoop
# manifests for a release into DIST/winget/ and DIST/scoop/, from the
# artefacts already in DIST (signed, if they are signed at all: the hashes
# are of what gets published). Assets are expected at
# https://github.com/lanyard-app/lanyard/releases/download/TAG/NAME.
#   winget: the per-user .msi (manifest schema 1.6, the three-file form for
#           a pull request to microsoft/winget-pkgs)
#   Scoop:  the three .exes (lanyard, the lanyard-agent it runs, the tray
#           app), lanyard on PATH and a Start-menu shortcut
set -euo pipefail
tag=${1:?usage: manifests.sh TAG PKGVER DIST}
pkgver=${2:?usage: manifests.sh TAG PKGVER DIST}
dist=${3:?usage: manifests.sh TAG PKGVER DIST}
release=https://github.com/lanyard-app/lanyard/releases/download/$tag
msi=lanyard-$pkgver-windows-amd64.msi
[ -f "$dist/$msi" ] || { echo "manifests.sh: no $dist/$msi" >&2; exit 1; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
id=Lanyard.Lanyard
summary="Short-lived AWS access from your hardware security key"

mkdir -p "$dist/winget" "$dist/scoop"
cat >"$dist/winget/$id.yaml" <<YAML
# yaml-language-server: \$schema=https://aka.ms/winget-manifest.version.1.6.0.schema.json
PackageIdentifier: $id
PackageVersion: $pkgver
DefaultLocale: en-US
ManifestType: version
ManifestVersion: 1.6.0
YAML
cat >"$dist/winget/$id.installer.yaml" <<YAML
# yaml-language-server: \$schema=https://aka.ms/winget-manifest.installer.1.6.0.schema.json
PackageIdentifier: $id
PackageVersion: $pkgver
InstallerType: wix
Scope: user
InstallModes:
  - interactive
  - silent
UpgradeBehavior: install
Commands:
  - lanyard
Installers:
  - Architecture: x64
    InstallerUrl: $release/$msi
    InstallerSha256: $(sha "$dist/$msi" | tr a-f A-F)
ManifestType: installer
ManifestVersion: 1.6.0
YAML
cat >"$dist/winget/$id.locale.en-US.yaml" <<YAML
# yaml-language-server: \$schema=https://aka.ms/winget-manifest.defaultLocale.1.6.0.schema.json
PackageIdentifier: $id
PackageVersion: $pkgver
PackageLocale: en-US
Publisher: The Lanyard developers
PublisherUrl: https://github.com/lanyard-app
PackageName: Lanyard
PackageUrl: https://github.com/lanyard-app/lanyard
License: LicenseRef-Lanyard
ShortDescription: $summary
Tags:
  - aws
  - yubikey
  - pkcs11
ManifestType: defaultLocale
ManifestVersion: 1.6.0
YAML
cat >"$dist/scoop/lanyard.json" <<JSON
{
  "version": "$pkgver",
  "description": "$summary",
  "homepage": "https://github.com/lanyard-app/lanyard",
  "license": "LicenseRef-Lanyard",
  "architecture": {
    "64bit": {
      "url": ["$release/lanyard.exe", "$release/lanyard-agent.exe", "$release/lanyard-gui.exe"],
      "hash": ["$(sha "$dist/windows-amd64/lanyard.exe")", "$(sha "$dist/windows-amd64/lanyard-agent.exe")", "$(sha "$dist/windows-amd64/lanyard-gui.exe")"]
    }
  },
  "bin": "lanyard.exe",
  "shortcuts": [["lanyard-gui.exe", "Lanyard"]]
}
JSON
