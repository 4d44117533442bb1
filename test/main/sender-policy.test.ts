// Who may use the API: main frames at the app's own origin or file folder.
import { describe, expect, it } from 'vitest';
import { defaultSenderPolicy } from '../../main/service/hub.js';

const policy = defaultSenderPolicy(['file:///opt/app/out/renderer', 'http://localhost:5173']);
const main = (url: string) => policy({ id: 1, url, isMainFrame: true });

describe('defaultSenderPolicy', () => {
  it('accepts the app’s pages in a main frame', () => {
    expect(main('file:///opt/app/out/renderer/first-run.html')).toBe(true);
    expect(main('file:///opt/app/out/renderer/nested/settings.html#x')).toBe(true);
    expect(main('http://localhost:5173/settings.html')).toBe(true);
  });

  it('refuses subframes, even of the app’s own pages', () => {
    expect(policy({ id: 1, url: 'file:///opt/app/out/renderer/first-run.html', isMainFrame: false })).toBe(
      false,
    );
    expect(policy({ id: 1, url: 'http://localhost:5173/settings.html', isMainFrame: false })).toBe(false);
  });

  it('refuses other origins and look-alikes', () => {
    expect(main('https://evil.example/first-run.html')).toBe(false);
    expect(main('http://localhost:5174/settings.html')).toBe(false);
    expect(main('https://localhost:5173/settings.html')).toBe(false);
    expect(main('http://localhost:5173.evil.example/')).toBe(false);
    expect(main('data:text/html,<p>hi</p>')).toBe(false);
    expect(main('about:blank')).toBe(false);
    expect(main('')).toBe(false);
    expect(main('not a url')).toBe(false);
  });

  it('matches file:// pages by folder, so a sibling folder or a climb out does not pass', () => {
    expect(main('file:///opt/app/out/renderer-evil/first-run.html')).toBe(false);
    expect(main('file:///opt/app/out/renderer/../preload/index.cjs')).toBe(false);
    expect(main('file:///opt/app/out/renderer/%2e%2e/x.html')).toBe(false);
    expect(main('file:///tmp/first-run.html')).toBe(false);
    expect(main('file:///opt/app/out/renderer')).toBe(false);
  });

  it('ignores entries that are not URLs and never trusts the opaque "null" origin', () => {
    const p = defaultSenderPolicy(['garbage', 'null', 'data:text/html,x']);
    expect(p({ id: 1, url: 'data:text/html,x', isMainFrame: true })).toBe(false);
    expect(p({ id: 1, url: 'garbage', isMainFrame: true })).toBe(false);
  });
});

describe('defaultSenderPolicy with a host app’s own scheme', () => {
  it('matches app://host by origin, like Chromium does for a standard scheme', () => {
    const p = defaultSenderPolicy(['app://host']);
    expect(p({ id: 1, url: 'app://host/index.html', isMainFrame: true })).toBe(true);
    expect(p({ id: 1, url: 'app://other/index.html', isMainFrame: true })).toBe(false);
    expect(p({ id: 1, url: 'evil://host/index.html', isMainFrame: true })).toBe(false);
    expect(p({ id: 1, url: 'app://host/index.html', isMainFrame: false })).toBe(false);
  });
});
