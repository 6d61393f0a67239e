import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import type { Vault } from '../vault.js';

/**
 * Receipt photos on appeals (issue #17): a JPEG or PNG of at most 2 MB, the type decided by the file's own
 * first bytes (never by its name or the browser's say-so), sealed with the vault before it is stored.
 * Operators see any; institution staff those of appeals against their records; nobody else.
 */
export const MAX_RECEIPT_BYTES = 2 * 1024 * 1024;
export type ReceiptType = 'image/jpeg' | 'image/png';

export interface SealedReceipt {
  contentType: ReceiptType;
  sizeBytes: number;
  dataEnc: string;
}

export function receiptType(data: Buffer): ReceiptType | undefined {
  if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'image/jpeg';
  if (data.length >= 8 && data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  return undefined;
}

/** What is wrong with a file offered as a receipt, in the words the form shows beside the field. */
export function receiptProblem(data: Buffer): string | undefined {
  if (data.length === 0) return '所选文件是空的，请重新选择';
  if (data.length > MAX_RECEIPT_BYTES) return '照片不能超过 2 MB，请压缩后重试';
  if (!receiptType(data)) return '只能上传 JPG 或 PNG 格式的照片';
  return undefined;
}

export function sealReceipt(vault: Vault, data: Buffer): SealedReceipt {
  const contentType = receiptType(data);
  if (!contentType || receiptProblem(data)) throw new Error('receipt not checked before sealing');
  return { contentType, sizeBytes: data.length, dataEnc: vault.encrypt(data.toString('base64')) };
}

/** The photo of an appeal, opened; `org` (institution staff) is part of the query. */
export async function openReceipt(
  db: Kysely<DB>,
  vault: Vault,
  org: string | undefined,
  appealId: number,
): Promise<{ contentType: ReceiptType; data: Buffer } | undefined> {
  const row = await db
    .selectFrom('appeal_receipt as r')
    .innerJoin('appeal as a', 'a.id', 'r.appeal_id')
    .select(['r.content_type', 'r.data_enc'])
    .where('r.appeal_id', '=', appealId)
    .$if(org !== undefined, (qb) => qb.where('a.org_id', '=', org!))
    .executeTakeFirst();
  if (!row) return undefined;
  return { contentType: row.content_type, data: Buffer.from(vault.decrypt(row.data_enc), 'base64') };
}

export async function hasReceipt(db: Kysely<DB>, appealId: number): Promise<boolean> {
  return !!(await db.selectFrom('appeal_receipt').select('appeal_id').where('appeal_id', '=', appealId).executeTakeFirst());
}
