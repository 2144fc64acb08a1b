/**
 * Bounded keeping of classified messages and per-class totals (weeks of logs, 1 M lines): the
 * first MAX_KEPT_PER_CLASS messages of each class, then only those that say something not kept
 * yet (MAX_NEW_AFTER_CAP at most), and for every message the counts and the last occurrence.
 * `other` messages are only counted, except lines of the firewall-related programs below.
 *
 * The first cap was 5,000: a 1 GB bundle then kept 125,000 messages (63 MB of the 140 MB heap,
 * 530 bytes each), although the analyzers read from them only what differs (a module, a set, a
 * LOG prefix) and the timeline shows 2,000 events. With 2,000 plus the new ones, what a message
 * names is no longer lost after the cap, as it was after the 5,000th message of a class before.
 */
export const MAX_KEPT_PER_CLASS = 2000;
/**
 * Messages of a class past MAX_KEPT_PER_CLASS that are kept because their text was not kept yet
 * (LOG lines: their prefix, as every packet differs).
 */
export const MAX_NEW_AFTER_CAP = 200;

/** Non-kernel programs whose unclassified lines analyzers still want (iptables.service output, …). */
const RELEVANT_PROGRAM =
  /^(?:ip6?tables(?:-\S*)?|iptables\S*|ebtables\S*|arptables\S*|xtables\S*|ipset|nft|nftables|modprobe|kmod|insmod|systemd-sysctl|systemd-modules-load|sysctl|firewalld|netfilter-persistent|conntrackd?|ufw|shorewall\S*|kube-proxy)$/;
const RELEVANT_WORDS = /iptables|nftables|ipset|netfilter|firewall|conntrack|ip6tables|ebtables/;

export function isRelevantProgramLine(program: string | undefined, text: string): boolean {
  if (program === undefined || program === "kernel") return false;
  if (RELEVANT_PROGRAM.test(program)) return true;
  if (program === "systemd" || program === "init") return RELEVANT_WORDS.test(text.slice(0, 512));
  return false;
}
