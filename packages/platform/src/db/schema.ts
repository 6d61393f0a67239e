import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

export interface InstitutionTable {
  org_id: string;
  org_name: string;
  region: string | null;
  /** Base URL of the institution's own interfaces; ORG_001 is `${endpoint_url}/qmdl/getOverdueResult`. */
  endpoint_url: string | null;
  /** JSON array of host names a production credential may name in notifyUrl. */
  notify_hosts: string;
  /** JSON array of payment channels shown to citizens. */
  payment_channels: string;
  /** JSON array of the ports the platform may call this institution on; empty: 443 and 80. */
  outbound_ports: ColumnType<string, string | undefined, string>;
  /** Staff of this institution must sign in with a second factor (migration 013). */
  require_totp: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface AppCredentialTable {
  app_id: string;
  /** 'institution' acts for its org_id; 'channel' (闽政通) may only query. */
  kind: 'institution' | 'channel';
  org_id: string | null;
  label: string | null;
  env: 'test' | 'prod';
  secret_enc: string;
  status: 'active' | 'disabled';
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface PersonTable {
  id: Generated<number>;
  id_type: string;
  id_no_bidx: string;
  id_no_enc: string;
  name_bidx: string;
  name_enc: string;
  phone_enc: string | null;
  ehealth_card_id: string;
  card_no: string;
  card_type: string;
  /**
   * Deprecated: a blind index of the 医保 number that nothing ever looked up, written by releases up to 0.2.x and
   * no longer (only null may be written). The column stays while a previous release may still run in a rolling
   * deploy; a later migration drops it (CHANGELOG.md).
   */
  psn_no_bidx: ColumnType<string | null, null | undefined, null>;
  /** How the name was verified (migration 012): typed at /card 领卡, or an institution's ORG_EHC_004. */
  name_source: ColumnType<'self' | 'verified', 'self' | 'verified' | undefined, 'self' | 'verified'>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface BatchTable {
  id: Generated<number>;
  org_id: string;
  org_request_id: string;
  kind: 'REPORT' | 'UPDATE';
  app_id: string;
  payload_hash: string;
  payload_enc: string;
  notify_url: string;
  item_count: number;
  status: 'received' | 'done';
  accepted_count: number | null;
  rejected_count: number | null;
  result_enc: string | null;
  callback_status: 'pending' | 'delivered' | 'failed';
  callback_attempts: Generated<number>;
  request_id: string | null;
  received_at: CreatedAt;
  processed_at: Date | null;
  delivered_at: Date | null;
}

export interface ArrearsItemTable {
  id: Generated<number>;
  trace_id: string;
  org_id: string;
  org_trace_id: string;
  real_name: boolean;
  person_id: number | null;
  subject_bidx: string;
  id_type: string | null;
  id_no_enc: string | null;
  name_enc: string | null;
  phone_enc: string | null;
  ehealth_card_id: string | null;
  user_type: string;
  med_type: string;
  fee_type: string;
  item_name: string;
  amount_fen: number;
  actual_time: Timestamp;
  state: '0' | '1' | '2';
  report_batch_id: number;
  last_batch_id: number;
  created_at: CreatedAt;
  updated_at: Timestamp;
  settled_at: Date | null;
}

/** ORG_MDL_002 read model (migration 011): one row per subject, kept by domain/subjects.ts. */
export interface ArrearsSubjectTable {
  subject_bidx: string;
  person_id: number | null;
  ehealth_card_id: string | null;
  name_bidx: string | null;
  unpaid_count: Generated<number>;
  unpaid_total_fen: Generated<number>;
  oldest_unpaid_at: Date | null;
  /** JSON: [orgId, itemName, amountFen, actualTimeMs][] of the unpaid items, oldest first. */
  items: Generated<string>;
  updated_at: Timestamp;
}

export interface CallbackAttemptTable {
  id: Generated<number>;
  batch_id: number;
  attempt: number;
  url: string;
  started_at: CreatedAt;
  duration_ms: number;
  http_status: number | null;
  outcome: 'delivered' | 'refused' | 'error';
  detail: string | null;
  request_id: string | null;
}

export interface AuditEventTable {
  id: Generated<number>;
  at: CreatedAt;
  actor_type: 'app' | 'operator' | 'system' | 'citizen';
  actor_id: string;
  org_id: string | null;
  subject_bidx: string | null;
  action: string;
  target: string | null;
  outcome: 'ok' | 'refused' | 'error';
  resp_code: string | null;
  request_id: string | null;
  detail: string | null;
}

export interface AppealTable {
  id: Generated<number>;
  item_id: number;
  org_id: string;
  subject_bidx: string;
  reason: 'paid' | 'not_me' | 'wrong_amount' | 'other';
  description: string;
  status: Generated<'open' | 'answered' | 'upheld' | 'rejected'>;
  org_reply: string | null;
  org_replied_by: string | null;
  org_replied_at: Date | null;
  decision_reason: string | null;
  decided_by: string | null;
  decided_at: Date | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

/** Migration 015: a citizen's receipt photo on an appeal, sealed (domain/appeal-receipts.ts). */
export interface AppealReceiptTable {
  appeal_id: number;
  content_type: 'image/jpeg' | 'image/png';
  size_bytes: number;
  data_enc: string;
  created_at: CreatedAt;
}

export interface EhcAuthSessionTable {
  id: Generated<number>;
  token_bidx: string;
  org_id: string;
  app_id: string;
  out_auth_no: string;
  auth_url_enc: string;
  status: Generated<'ing' | 'succ' | 'fail' | 'cancel'>;
  person_id: number | null;
  expires_at: Timestamp;
  decided_at: Date | null;
  created_at: CreatedAt;
}

export interface CitizenTokenTable {
  token_hash: string;
  subject_bidx: string;
  /** The calling institution's non-real-name key for this identity, when an institution asked. */
  local_bidx: string | null;
  person_id: number | null;
  app_id: string;
  org_id: string | null;
  expires_at: Timestamp;
  used_at: Date | null;
  created_at: CreatedAt;
}

export interface CitizenSessionTable {
  sid_hash: string;
  subject_bidx: string;
  local_bidx: string | null;
  person_id: number | null;
  name_enc: string | null;
  csrf: string;
  /** 'channel' when the 闽政通 channel opened it (migration 012). */
  entered_by: ColumnType<'channel' | 'portal', 'channel' | 'portal' | undefined, never>;
  expires_at: Timestamp;
  created_at: CreatedAt;
}

export interface ItemRefreshTable {
  item_id: number;
  status: 'ok' | 'failed';
  attempts: number;
  last_state: '0' | '1' | '2' | null;
  last_detail: string | null;
  last_attempt_at: Timestamp;
  updated_at: Timestamp;
}

/** The reminder outbox (issue #4); the operator console lists it. */
export interface ReminderTable {
  id: Generated<number>;
  subject_bidx: string;
  person_id: number | null;
  channel: 'outbox' | 'http';
  status: 'pending' | 'sent' | 'failed' | 'cancelled';
  unpaid_count: number;
  total_fen: number;
  /** JSON array of {orgId, orgName, count, amountFen}. */
  org_summary: string;
  message: string;
  link: string;
  /** China date of the send: with subject_bidx, a second guard against duplicates. */
  period_key: string;
  attempts: Generated<number>;
  last_error: string | null;
  created_at: CreatedAt;
  sent_at: Date | null;
}

export interface ReminderClaimTable {
  subject_bidx: string;
  last_at: Timestamp;
}

export interface ConsoleUserTable {
  id: Generated<number>;
  username: string;
  role: 'operator' | 'auditor' | 'staff';
  /** Institution staff act for this orgId only. */
  org_id: string | null;
  display_name: string | null;
  /** scrypt$N$r$p$salt$hash (memory-hard, node:crypto). */
  password_hash: string;
  /** Base32 TOTP secret sealed by the vault; required for operators. */
  totp_secret_enc: string | null;
  /** Last accepted TOTP time step: a code is good once. */
  totp_last_step: number | null;
  status: Generated<'active' | 'disabled'>;
  failed_count: Generated<number>;
  locked_until: Date | null;
  last_login_at: Date | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface ConsoleSessionTable {
  /** SM3 of the cookie token. */
  token_hash: string;
  user_id: number;
  csrf_token: string;
  ip: string | null;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  ended_at: Date | null;
}

export interface PolicyHistoryTable {
  id: Generated<number>;
  policy: string;
  previous: string | null;
  note: string | null;
  changed_by: string;
  changed_at: CreatedAt;
}

export interface SettingTable {
  key: string;
  value: string;
  updated_at: Timestamp;
}

export interface MigrationTable {
  id: string;
  applied_at: CreatedAt;
}

/** Attempt counters for sign-in throttling (migration 008). */
export interface AuthThrottleTable {
  key: string;
  window_start: Date;
  count: number;
  last_nonce: string | null;
  blocked_until: Date | null;
}

/** A /card sign-in challenge: the SMS code's keyed digest, attempts, expiry, use (migration 012). */
export interface CardOtpTable {
  id: Generated<number>;
  token_hash: string;
  person_id: number | null;
  throttle_key: string;
  code_hash: string;
  /** The phone to record on success (claiming a phone-less card), sealed. */
  phone_enc: string | null;
  purpose: string;
  attempts: ColumnType<number, number | undefined, number>;
  created_at: Date;
  expires_at: Date;
  used_at: Date | null;
}

/** The sandbox's SMS outbox (migration 012). */
export interface SmsOutboxTable {
  id: Generated<number>;
  phone_enc: string;
  text_enc: string;
  created_at: CreatedAt;
}

/** Self-registrations a verified source contradicted, for an operator (migration 012). */
export interface CardReviewTable {
  id: Generated<number>;
  person_id: number;
  self_name_enc: string;
  self_phone_enc: string | null;
  verified_by: string;
  status: ColumnType<'open' | 'rejected' | 'restored', 'open' | undefined, 'open' | 'rejected' | 'restored'>;
  created_at: CreatedAt;
  decided_by: string | null;
  decided_at: Date | null;
  note: string | null;
}

/** One block of sealed audit events (migration 008, domain/audit-chain.ts). */
export interface AuditSealTable {
  id: Generated<number>;
  first_id: number;
  last_id: number;
  event_count: number;
  digests: string;
  prev_hash: string;
  hash: string;
  sealed_at: Generated<Date>;
}

/** Health codes already verified (migration 008). */
export interface EhcCodeSpentTable {
  code_id: string;
  org_id: string;
  spent_at: Date;
  expires_at: Date;
}

/** /card sessions (migration 008). */
export interface CardSessionTable {
  token_hash: string;
  person_id: number;
  created_at: Date;
  expires_at: Date;
  ended_at: Date | null;
}

/** Resumable row-by-row work under the vault (migration 013, domain/keys/). */
export interface KeyTaskTable {
  task: string;
  step: string;
  cursor_key: ColumnType<string, string | undefined, string>;
  rows_done: ColumnType<number, number | undefined, number>;
  done: ColumnType<boolean, boolean | undefined, boolean>;
  updated_at: Timestamp;
}

/** Master-key rotations (migration 013): at most one unfinished. */
export interface KeyRotationTable {
  id: Generated<number>;
  old_fingerprint: string;
  new_fingerprint: string;
  holder: string | null;
  lease_until: Date | null;
  started_at: Generated<Date>;
  finished_at: Date | null;
}

export interface KeyMapTable {
  rotation_id: number;
  old_bidx: string;
  new_bidx: string;
}

export interface DB {
  key_map: KeyMapTable;
  key_task: KeyTaskTable;
  key_rotation: KeyRotationTable;
  institution: InstitutionTable;
  app_credential: AppCredentialTable;
  person: PersonTable;
  batch: BatchTable;
  arrears_item: ArrearsItemTable;
  arrears_subject: ArrearsSubjectTable;
  callback_attempt: CallbackAttemptTable;
  audit_event: AuditEventTable;
  setting: SettingTable;
  appeal: AppealTable;
  appeal_receipt: AppealReceiptTable;
  ehc_auth_session: EhcAuthSessionTable;
  citizen_token: CitizenTokenTable;
  citizen_session: CitizenSessionTable;
  item_refresh: ItemRefreshTable;
  reminder: ReminderTable;
  reminder_claim: ReminderClaimTable;
  console_user: ConsoleUserTable;
  console_session: ConsoleSessionTable;
  policy_history: PolicyHistoryTable;
  mdl_migration: MigrationTable;
  auth_throttle: AuthThrottleTable;
  audit_seal: AuditSealTable;
  ehc_code_spent: EhcCodeSpentTable;
  card_session: CardSessionTable;
  card_otp: CardOtpTable;
  sms_outbox: SmsOutboxTable;
  card_review: CardReviewTable;
}

export type Institution = Selectable<InstitutionTable>;
export type AppCredential = Selectable<AppCredentialTable>;
export type Person = Selectable<PersonTable>;
export type Batch = Selectable<BatchTable>;
export type ArrearsItem = Selectable<ArrearsItemTable>;
export type NewArrearsItem = Insertable<ArrearsItemTable>;
export type Appeal = Selectable<AppealTable>;
export type EhcAuthSession = Selectable<EhcAuthSessionTable>;
export type NewAuditEvent = Insertable<AuditEventTable>;
export type Reminder = Selectable<ReminderTable>;
export type CitizenSession = Selectable<CitizenSessionTable>;
export type ConsoleUser = Selectable<ConsoleUserTable>;
