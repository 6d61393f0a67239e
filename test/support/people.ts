import { DAY_MS, epochMsToChinaTime } from '@mdl/protocol';

export { residentId } from '@mdl/protocol';

/** China time, `daysAgo` days before now, in the guide's format. */
export function chinaTime(daysAgo = 0): string {
  return epochMsToChinaTime(Date.now() - daysAgo * DAY_MS);
}

/** A non-real-name patient of a report: none of the four identity fields (guide §4.3.1.2), and these items. */
export function anonymousPatient<I>(itemList: I[]) {
  return { idNo: '', idType: '', userName: '', ehealthCardId: '', userType: '01', itemList };
}

/** Polls until `check` stops throwing: for effects that land a moment after the event a test saw. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
