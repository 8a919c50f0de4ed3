/**
 * Shtrih-M error codes (answer byte after the command code; reference §1.6) and what the
 * driver does about each: the interface's DeviceErrorKind for what reaches the service, plus
 * the internal classes the driver handles itself (busy, continue-print, fixable state).
 */
import { DeviceError, type DeviceErrorKind } from '../register';

export type ErrorHandling =
  | DeviceErrorKind
  /** 50h: the device is still printing the previous command; wait, poll 10h, resend (not an attempt). */
  | 'busy'
  /** 58h: waiting for "continue printing"; send B0h, resend. */
  | 'continue-print';

export interface ErrorInfo {
  ru: string;
  en: string;
  handling: ErrorHandling;
  /** State errors the driver fixes (cancel receipt, Z + open shift) and then retries once. */
  fixable?: boolean;
}

const E = (ru: string, en: string, handling: ErrorHandling, fixable?: boolean): ErrorInfo => ({ ru, en, handling, fixable });

export const ERROR_TABLE: Record<number, ErrorInfo> = {
  0x01: E('Неизвестная команда, неверный формат посылки или неизвестные параметры', 'unknown command or bad format', 'business'),
  0x02: E('Неверное состояние ФН', 'FN in another state', 'state'),
  0x03: E('Отказ ФН', 'FN failure', 'hard'),
  0x04: E('Отказ КС', 'FN crypto-coprocessor failure', 'hard'),
  0x05: E('Закончен срок эксплуатации ФН', 'FN lifetime expired', 'hard'),
  0x06: E('Архив ФН переполнен', 'FN archive full', 'hard'),
  0x07: E('Неверные дата и/или время', 'wrong date/time for the FN', 'hard'),
  0x08: E('Нет запрошенных данных', 'requested data not in the FN', 'business'),
  0x09: E('Некорректное значение параметров команды', 'invalid parameter value', 'business'),
  0x10: E('Превышение размеров TLV данных', 'TLV data too large', 'business'),
  0x11: E('Нет транспортного соединения', 'no transport connection to the OFD', 'state'),
  0x12: E('Исчерпан ресурс КС', 'FN resource exhausted (replace the FN)', 'hard'),
  0x14: E('Исчерпан ресурс хранения', 'FN storage for the OFD exhausted (30-day block)', 'hard'),
  0x15: E('Исчерпан ресурс ожидания передачи сообщения', 'FN message transfer wait exhausted', 'hard'),
  0x16: E('Продолжительность смены более 24 часов', 'FN: shift longer than 24 hours', 'state', true),
  0x17: E('Неверная разница во времени между 2 операциями', 'time between documents inconsistent', 'hard'),
  0x20: E('Сообщение от ОФД не может быть принято', 'OFD message rejected', 'hard'),
  0x2f: E('Таймаут обмена с ФН', 'FN exchange timeout', 'state'),
  0x30: E('ФН не отвечает', 'FN not responding', 'hard'),
  0x33: E('Некорректные параметры в команде', 'bad command parameters', 'business'),
  0x34: E('Нет данных', 'no data', 'business'),
  0x35: E('Некорректный параметр при данных настройках', 'parameter not valid with current settings', 'business'),
  0x36: E('Некорректные параметры в команде для данной реализации ККТ', 'parameters not valid for this implementation', 'business'),
  0x37: E('Команда не поддерживается в данной реализации ККТ', 'command not supported by this model', 'business'),
  0x45: E('Cумма всех типов оплаты меньше итога чека', 'sum of payments less than the receipt total', 'business'),
  0x46: E('Не хватает наличности в кассе', 'not enough cash in the drawer', 'business'),
  0x48: E('Переполнение итога чека', 'receipt total overflow', 'business'),
  0x4a: E('Открыт чек – операция невозможна', 'receipt open, operation impossible', 'state', true),
  0x4d: E('Вносимая безналичной оплатой сумма больше суммы чека', 'non-cash payment exceeds the receipt total', 'business'),
  0x4e: E('Смена превысила 24 часа', 'shift exceeded 24 hours', 'state', true),
  0x4f: E('Неверный пароль', 'wrong password', 'hard'),
  0x50: E('Идет печать результатов выполнения предыдущей команды', 'printing the result of the previous command', 'busy'),
  0x55: E('Чек закрыт – операция невозможна', 'receipt closed, operation impossible', 'state', true),
  0x58: E('Ожидание команды продолжения печати', 'waiting for the continue-printing command', 'continue-print'),
  0x5e: E('Некорректная операция', 'invalid operation', 'business'),
  0x6b: E('Нет чековой ленты', 'no receipt paper', 'operator'),
  0x6c: E('Нет контрольной ленты', 'no journal paper', 'operator'),
  0x71: E('Ошибка отрезчика', 'cutter error', 'hard'),
  0x72: E('Команда не поддерживается в данном подрежиме', 'command not allowed in this sub-mode', 'state', true),
  0x73: E('Команда не поддерживается в данном режиме', 'command not allowed in this mode', 'state', true),
  0x8e: E('Нулевой итог чека', 'zero receipt total', 'business'),
  0xc0: E('Контроль даты и времени (подтвердите дату и время)', 'date/time control: confirm the date', 'operator'),
  0xc4: E('Несовпадение номеров смен', 'shift numbers mismatch (KKT vs FN)', 'hard'),
  0xc8: E('Отсутствуют импульсы от таходатчика', 'no printer / tacho pulses', 'hard'),
};

export function errorInfo(code: number): ErrorInfo {
  return ERROR_TABLE[code] ?? E(`Ошибка ${code.toString(16).toUpperCase()}h`, `error ${code.toString(16).toUpperCase()}h`, 'state');
}

/** What the service sees for an error the driver could not handle itself. */
export function errorKind(code: number): DeviceErrorKind {
  const h = errorInfo(code).handling;
  return h === 'busy' || h === 'continue-print' ? 'state' : h;
}

export function errorText(code: number): string {
  const info = errorInfo(code);
  return `${info.en} (${info.ru})`;
}

export function deviceError(code: number, command: number, kind?: DeviceErrorKind): DeviceError {
  return new DeviceError(code, command, kind ?? errorKind(code), errorText(code));
}
