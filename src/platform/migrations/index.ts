// Listed by hand (npm run migration:generate appends here) rather than globbed, so that the
// same list loads from TypeScript under test and from compiled JavaScript in production.
import { Foundation1795558130339 } from "./sqlite/1795558130339-Foundation";
import { PhoneFactors1795558828932 } from "./sqlite/1795558828932-PhoneFactors";
import { Transactions1795559625163 } from "./sqlite/1795559625163-Transactions";
import { SmsTemplates1795559812043 } from "./sqlite/1795559812043-SmsTemplates";
import { Security1795560564055 } from "./sqlite/1795560564055-Security";
import { LogIndexes1795564098635 } from "./sqlite/1795564098635-LogIndexes";
import { TrafficCounters1795572882646 } from "./sqlite/1795572882646-TrafficCounters";
import { RangeNumbers1795591427987 } from "./sqlite/1795591427987-RangeNumbers";
import { PhoneFactorNumbers1796595755630 } from "./sqlite/1796595755630-PhoneFactorNumbers";
import { PasswordHistory1796627693086 } from "./sqlite/1796627693086-PasswordHistory";
import { PasswordExpiry1796633505650 } from "./sqlite/1796633505650-PasswordExpiry";
import { PasswordExpiryWarning1796635010209 } from "./sqlite/1796635010209-PasswordExpiryWarning";
import { PasswordMinAge1796638036902 } from "./sqlite/1796638036902-PasswordMinAge";
import { AttemptProviderIds1796649891829 } from "./sqlite/1796649891829-AttemptProviderIds";
import { RecoveryPasscodes1796652000000 } from "./sqlite/1796652000000-RecoveryPasscodes";
import { LookupIndexes1796675891579 } from "./sqlite/1796675891579-LookupIndexes";
import { ShowLockoutFailures1796684678000 } from "./sqlite/1796684678000-ShowLockoutFailures";
// MIGRATIONS-SQLITE
export const sqliteMigrations: Function[] = [Foundation1795558130339, PhoneFactors1795558828932, Transactions1795559625163, SmsTemplates1795559812043, Security1795560564055, LogIndexes1795564098635, TrafficCounters1795572882646, RangeNumbers1795591427987, PhoneFactorNumbers1796595755630, PasswordHistory1796627693086, PasswordExpiry1796633505650, PasswordExpiryWarning1796635010209, PasswordMinAge1796638036902, AttemptProviderIds1796649891829, RecoveryPasscodes1796652000000, LookupIndexes1796675891579, ShowLockoutFailures1796684678000];
import { Foundation1795558140633 } from "./postgres/1795558140633-Foundation";
import { PhoneFactors1795558831691 } from "./postgres/1795558831691-PhoneFactors";
import { Transactions1795559627247 } from "./postgres/1795559627247-Transactions";
import { SmsTemplates1795559815676 } from "./postgres/1795559815676-SmsTemplates";
import { Security1795560566636 } from "./postgres/1795560566636-Security";
import { LogIndexes1795564102433 } from "./postgres/1795564102433-LogIndexes";
import { TrafficCounters1795572885690 } from "./postgres/1795572885690-TrafficCounters";
import { RangeNumbers1795591431195 } from "./postgres/1795591431195-RangeNumbers";
import { PhoneFactorNumbers1796595758551 } from "./postgres/1796595758551-PhoneFactorNumbers";
import { SpendCapCheck1796600000000 } from "./postgres/1796600000000-SpendCapCheck";
import { PasswordHistory1796627696369 } from "./postgres/1796627696369-PasswordHistory";
import { PasswordExpiry1796633508262 } from "./postgres/1796633508262-PasswordExpiry";
import { PasswordExpiryWarning1796635012731 } from "./postgres/1796635012731-PasswordExpiryWarning";
import { PasswordMinAge1796638039512 } from "./postgres/1796638039512-PasswordMinAge";
import { AttemptProviderIds1796649894170 } from "./postgres/1796649894170-AttemptProviderIds";
import { RecoveryPasscodes1796652000001 } from "./postgres/1796652000001-RecoveryPasscodes";
import { LookupIndexes1796675895646 } from "./postgres/1796675895646-LookupIndexes";
import { ShowLockoutFailures1796684678001 } from "./postgres/1796684678001-ShowLockoutFailures";
// MIGRATIONS-POSTGRES
export const postgresMigrations: Function[] = [Foundation1795558140633, PhoneFactors1795558831691, Transactions1795559627247, SmsTemplates1795559815676, Security1795560566636, LogIndexes1795564102433, TrafficCounters1795572885690, RangeNumbers1795591431195, PhoneFactorNumbers1796595758551, SpendCapCheck1796600000000, PasswordHistory1796627696369, PasswordExpiry1796633508262, PasswordExpiryWarning1796635012731, PasswordMinAge1796638039512, AttemptProviderIds1796649894170, RecoveryPasscodes1796652000001, LookupIndexes1796675895646, ShowLockoutFailures1796684678001];
