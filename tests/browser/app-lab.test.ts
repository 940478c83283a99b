// Attack Lab end to end (scripted policies, no model needed): two columns on one scenario, the
// human verifier's Approve button, sharing the state as a link, and keyboard tab navigation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTab, pageErrors, screenshot, startApp, type AppFixture } from './app-fixture';

describe('app: Attack Lab', () => {
  let app: AppFixture;
  beforeAll(async () => { app = await startApp(); });
  afterAll(async () => { await app?.close(); });

  it('runs comply and oracle side by side on an injected scenario, with rewards', async () => {
    const page = await app.open();
    await openTab(page, 'Attack Lab');
    await page.getByTestId('scenario-info').waitFor();
    expect(await page.getByTestId('scenario-info').textContent()).toContain('cell BU-MT');
    await page.getByTestId('verifier-select').selectOption('scenario');
    await page.getByTestId('run-both').click();
    const left = page.getByTestId('column-left'), right = page.getByTestId('column-right');
    await left.getByTestId('episode-result').waitFor({ timeout: 30_000 });
    await right.getByTestId('episode-result').waitFor({ timeout: 30_000 });
    // comply follows the injection: attack success gates the reward to 0; oracle ignores it.
    expect(await left.getByTestId('reward').textContent()).toContain('attack succeeded');
    expect(Number(await left.getByTestId('reward-total').textContent())).toBe(0);
    expect(await right.getByTestId('reward').textContent()).toContain('no attack success');
    expect(Number(await right.getByTestId('reward-total').textContent())).toBeGreaterThan(0.5);
    expect(await left.getByTestId('turn').count()).toBeGreaterThan(1);
    expect(await left.locator('[data-decision="execute"]').count()).toBeGreaterThan(0);
    await screenshot(page, 'app-lab-side-by-side');
    await page.emulateMedia({ colorScheme: 'dark' });
    await screenshot(page, 'app-lab-side-by-side-dark');
    expect(pageErrors(page)).toEqual([]);
    await page.close();
  });

  it('asks the human verifier and continues after Approve', async () => {
    const page = await app.open();
    await openTab(page, 'Attack Lab');
    await page.locator('[data-cell="SU-BT"]').click();
    await page.getByTestId('scenario-info').filter({ hasText: 'SU-BT' }).waitFor();
    const right = page.getByTestId('column-right');
    await right.getByTestId('policy-select').selectOption('oracle');
    await right.getByTestId('run').click();
    await right.getByTestId('pending-check').waitFor({ timeout: 30_000 });
    await screenshot(page, 'app-lab-verification');
    await right.getByTestId('approve').click();
    await right.getByTestId('episode-result').waitFor({ timeout: 30_000 });
    const check = right.getByTestId('check-record').first();
    expect(await check.textContent()).toContain('Approved');
    expect(await right.locator('[data-decision="verify"]').count()).toBeGreaterThan(0);
    expect(Number(await right.getByTestId('reward-total').textContent())).toBeGreaterThan(0.5);
    await page.close();
  });

  it('shares the scenario with its edits as a link, and rejects a tampered link', async () => {
    const page = await app.open();
    await openTab(page, 'Attack Lab');
    await page.locator('[data-cell="BU-BT"]').click();
    await page.getByTestId('scenario-info').filter({ hasText: 'BU-BT' }).waitFor();
    await page.getByTestId('user-prompt').fill('My own prompt: check my calendar please');
    await page.getByTestId('column-left').getByTestId('policy-select').selectOption('refuse');
    await page.getByTestId('share').click();
    const url = await page.getByTestId('share-url').inputValue();
    expect(url).toMatch(/#lab=[A-Za-z0-9_-]+$/);
    const id = (await page.getByTestId('scenario-info').textContent())!.split(' ')[0];

    const shared = await app.open(url.slice(url.indexOf('#')));
    await shared.getByTestId('scenario-info').waitFor();
    expect((await shared.getByTestId('scenario-info').textContent())!.split(' ')[0]).toBe(id);
    expect(await shared.getByTestId('user-prompt').inputValue()).toBe('My own prompt: check my calendar please');
    expect(await shared.getByTestId('column-left').getByTestId('policy-select').inputValue()).toBe('refuse');
    // Loading a link runs nothing.
    expect(await shared.getByTestId('turn').count()).toBe(0);

    const bad = await app.open('#lab=' + Buffer.from(JSON.stringify({ v: 1, split: 'test', id: '../../etc', policies: ['model', 'oracle'], edits: { patchEdits: [], toolOverrides: [] } })).toString('base64url'));
    await bad.getByTestId('hash-error').waitFor();
    expect(await bad.getByTestId('hash-error').textContent()).toContain('"id"');
    await Promise.all([page.close(), shared.close(), bad.close()]);
  });

  it('moves between tabs with the arrow keys (roving tabindex)', async () => {
    const page = await app.open();
    const modelTab = page.getByRole('tab', { name: 'Model' });
    expect(await modelTab.getAttribute('tabindex')).toBe('0');
    expect(await page.getByRole('tab', { name: 'Train' }).getAttribute('tabindex')).toBe('-1');
    await modelTab.focus();
    await page.keyboard.press('ArrowRight');
    expect(await page.getByRole('tab', { name: 'Attack Lab' }).getAttribute('aria-selected')).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Attack Lab');
    await page.keyboard.press('End');
    expect(await page.getByRole('tab', { name: 'Checkpoints' }).getAttribute('aria-selected')).toBe('true');
    await page.keyboard.press('ArrowRight');
    expect(await modelTab.getAttribute('aria-selected')).toBe('true');
    // Train tab without a loaded model: Start stays disabled and the tab says why.
    await openTab(page, 'Train');
    await page.getByTestId('trainer-missing').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('trainer-missing').textContent()).toContain('Load a model first');
    expect(await page.getByTestId('train-start').isDisabled()).toBe(true);
    await page.close();
  });
});
