import { fenToYuan } from '@mdl/protocol';

/** Amounts are shown one way on every page: ¥1,305.50 (yuan, thousands separated, two decimals). */
export function money(fen: number | string | null | undefined): string {
  const [whole, cents] = fenToYuan(Number(fen ?? 0)).split('.');
  const sign = whole!.startsWith('-') ? '-' : '';
  const digits = whole!.replace('-', '').replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}¥${digits}.${cents ?? '00'}`;
}
