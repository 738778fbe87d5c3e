/**
 * End-to-end: a LoRA fine-tune in the page — adapters on the diagram's blocks, the run in the table with its
 * trainable share (a few per cent), and its two exports: the merged model (a plain nanoGPT file whose
 * untouched tensors equal the snapshot's) and the adapters alone, which load back onto their base model only
 * (also after LoRA runs stacked on one another).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { newPage, ready, sample, untilRunEnds } from './harness';
import { appForFile } from './appForFile';
import { readSafetensors } from '../../src/engine/io/safetensors';
import { readAdapter } from '../../src/engine/io/adapter';

const app = appForFile();

async function load(page: Page, name: string, bytes: Buffer, notice: string): Promise<string> {
  await page.setInputFiles('[data-testid=import-model]', { name, mimeType: 'application/octet-stream', buffer: bytes });
  await page.waitForSelector(`[data-testid=notice]:has-text("${notice}")`, { timeout: 60_000 });
  return (await page.textContent('[data-testid=notice]')) ?? '';
}

const SMALL = 'layers=2&heads=2&embd=64&block=32&batch=8&lr=0.01&schedule=constant&eval=10';

describe('LoRA in Chromium', () => {
  it('fine-tunes with adapters only: diagram, trainable share, merged and adapter-only exports', async () => {
    const { page, context, errors } = await newPage(app, `?backend=wasm&${SMALL}&pairs=sailor-quick`);
    try {
      await ready(page);
      await page.click('[data-testid=create-model]');
      await page.waitForSelector('[data-testid=model-info]', { timeout: 60_000 });
      await page.fill('[data-testid=pretrain-steps]', '20');
      await page.fill('[data-testid=pretrain-sample-every]', '0');
      await untilRunEnds(page, () => page.click('[data-testid=pretrain-start]'), 180_000);
      await page.waitForSelector('[data-testid=pairs-info]');
      await page.fill('[data-testid=chat-max-tokens]', '20');

      await page.check('[data-testid=freeze-lora]');
      await page.fill('[data-testid=lora-rank]', '4');
      // rank 4 on attention: 4·(64 + 192) + 4·(64 + 64) = 1,536 per block, 3,072 in all
      expect(await page.textContent('[data-testid=lora-share]')).toMatch(/3,072 trainable numbers/);
      expect(await page.textContent('[data-testid="lora-block.0"]')).toMatch(/LoRA r4 · 1,536/);
      await page.fill('[data-testid=finetune-steps]', '20');
      await page.fill('[data-testid=finetune-eval-every]', '10');
      await page.fill('[data-testid=finetune-sample-every]', '0');
      await untilRunEnds(page, () => page.click('[data-testid=finetune-start]'), 300_000);
      await page.waitForFunction(() => document.querySelector('[data-testid=run-row] [data-status=done]') !== null, null, { timeout: 10_000 });

      const row = page.locator('[data-testid=run-row]').first();
      expect(await row.locator('[data-testid=run-name]').textContent()).toBe('LoRA, rank 4 (α 16)');
      const trainable = (await row.locator('[data-testid=run-trainable]').textContent()) ?? '';
      expect(trainable).toMatch(/^3,072 \((\d+\.\d)%\)$/);
      const share = Number(/\((\d+\.\d)%\)/.exec(trainable)![1]);
      expect(share).toBeGreaterThan(0.5);
      expect(share).toBeLessThan(10);
      // After the run the diagram shows each block's adapter update, ‖(α/r)·B·A‖ > 0; the weights are frozen.
      await page.waitForFunction(() => /adapter update [1-9]/.test(document.querySelector('[data-testid="lora-block.1"]')?.textContent ?? ''), null, {
        timeout: 30_000,
      });
      expect(await page.getAttribute('[data-testid="group-block.1"]', 'data-state')).toBe('frozen');

      // Merged export: a plain model file; tensors LoRA does not touch equal the pretrained snapshot's.
      const [snapDl] = await Promise.all([page.waitForEvent('download'), page.click('text=Download pretrained snapshot')]);
      const snap = readSafetensors(new Uint8Array(readFileSync((await snapDl.path())!)));
      const [mergedDl] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-model]')]);
      const merged = readSafetensors(new Uint8Array(readFileSync((await mergedDl.path())!)));
      expect([...merged.tensors.keys()].some((n) => n.includes('lora'))).toBe(false);
      for (const name of ['transformer.wte.weight', 'transformer.h.0.mlp.c_fc.weight', 'transformer.h.1.ln_1.weight']) {
        expect(Buffer.from(merged.tensors.get(name)!.data.buffer).equals(Buffer.from(snap.tensors.get(name)!.data.buffer)), name).toBe(true);
      }
      expect(merged.tensors.get('transformer.h.0.attn.c_attn.weight')!.data).not.toEqual(snap.tensors.get('transformer.h.0.attn.c_attn.weight')!.data);

      // Adapter only: A and B with rank, α and targets.
      const [adDl] = await Promise.all([page.waitForEvent('download'), row.locator('[data-testid=run-export-adapter]').click()]);
      const adapter = readAdapter(new Uint8Array(readFileSync((await adDl.path())!)));
      expect(adapter.lora).toEqual({ rank: 4, alpha: 16, targets: 'attn' });
      expect(adapter.values.size).toBe(2 * 2 * 2);

      // The adapters load back in the page, onto the model they were trained from only. The fine-tuned model's
      // answer first; then a fresh model refuses them and stays without; the pretrained snapshot takes them
      // and answers exactly as the fine-tuned model did.
      const tuned = await sample(page, 'Where is the ship?', 3);
      const adapterBytes = readFileSync((await adDl.path())!);
      const snapBytes = readFileSync((await snapDl.path())!);
      expect(await page.textContent('[data-testid=model-lora]')).toMatch(/rank 4, α 16, on attention \(c_attn, c_proj\)/);
      await page.click('[data-testid=create-model]');
      await page.waitForFunction(() => document.querySelector('[data-testid=model-lora]') === null, null, { timeout: 60_000 });
      expect(await load(page, 'adapter.safetensors', adapterBytes, 'Could not load adapter.safetensors')).toMatch(/trained on another base model/);
      expect(await page.locator('[data-testid=model-lora]').count()).toBe(0);
      await load(page, 'snapshot.safetensors', snapBytes, 'Loaded snapshot.safetensors');
      await load(page, 'adapter.safetensors', adapterBytes, 'Loaded the LoRA adapters of adapter.safetensors onto this model');
      await page.waitForSelector('[data-testid=model-lora]:has-text("rank 4, α 16, on attention")', { timeout: 30_000 });
      expect(await sample(page, 'Where is the ship?', 3)).toBe(tuned);

      // Two more LoRA runs on top: each folds the adapters before it into the weights, so the last run trained
      // on weights that are neither the file loaded nor the snapshot its first run kept. Its adapter file
      // records the weights it was trained on, and so loads back onto this model.
      for (let k = 0; k < 2; k++) {
        const before = await page.locator('[data-testid=run-row]').count();
        await untilRunEnds(page, () => page.click('[data-testid=finetune-start]'), 300_000);
        await page.waitForFunction((n) => document.querySelectorAll('[data-testid=run-row] [data-status=done]').length > n, before, { timeout: 10_000 });
      }
      const [lastDl] = await Promise.all([
        page.waitForEvent('download'),
        page.locator('[data-testid=run-row]').last().locator('[data-testid=run-export-adapter]').click(),
      ]);
      await load(page, 'last.safetensors', readFileSync((await lastDl.path())!), 'Loaded the LoRA adapters of last.safetensors onto this model');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 600_000);
});
