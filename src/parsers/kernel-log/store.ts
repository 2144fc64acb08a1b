/**
 * Bounded keeping of classified messages and per-class totals (weeks of logs, 1 M lines):
 * up to MAX_KEPT_PER_CLASS messages per class (counted in the parser's per-class totals), then
 * only counts and the last occurrence.
 * `other` messages are only counted, except lines of the firewall-related programs below.
 */
export const MAX_KEPT_PER_CLASS = 5000;

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
