# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_ksymrules_global_optspecs
    string join \n d/debug dump-dies dump-die-map dump-types dump-versions s/stable T/symtypes= rules= kabi= print-rules explain= report-quirks walk-in-order h/help V/version
end

function __fish_ksymrules_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_ksymrules_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_ksymrules_using_subcommand
    set -l cmd (__fish_ksymrules_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c ksymrules -n "__fish_ksymrules_needs_command" -s T -l symtypes -d 'Write a symtypes file' -r -F
complete -c ksymrules -n "__fish_ksymrules_needs_command" -l rules -d 'Use these rules instead of the embedded default (a file that starts with `include "default"` changes only what it says)' -r -F
complete -c ksymrules -n "__fish_ksymrules_needs_command" -l kabi -d 'Add the kABI rules of this file (`kabi` statements; see docs/kabi.md); in the environment, several files are separated by `:`' -r -F
complete -c ksymrules -n "__fish_ksymrules_needs_command" -l explain -d 'Print SYMBOL\'s type string, and those of the types it refers to, piece by piece, with the DIE and the rules-file line behind each piece (no symbol list is read)' -r
complete -c ksymrules -n "__fish_ksymrules_needs_command" -s d -l debug -d 'Print debugging information'
complete -c ksymrules -n "__fish_ksymrules_needs_command" -l dump-dies -d 'Print the type strings as they are built (stderr)'
complete -c ksymrules -n "__fish_ksymrules_needs_command" -l dump-die-map -d 'Same as --dump-dies'
complete -c ksymrules -n "__fish_ksymrules_needs_command" -l dump-types -d 'Print type-map entries as they are added or replaced (stderr)'
complete -c ksymrules -n "__fish_ksymrules_needs_command" -l dump-versions -d 'Print each symbol\'s fully expanded type string (stderr)'
complete -c ksymrules -n "__fish_ksymrules_needs_command" -s s -l stable -d 'Support kABI stability features'
complete -c ksymrules -n "__fish_ksymrules_needs_command" -l print-rules -d 'Print the embedded default rules and exit'
complete -c ksymrules -n "__fish_ksymrules_needs_command" -l report-quirks -d 'Report, as `quirk: FILE: KIND: what` lines on stderr, where gendwarfksyms\' result depends on something unexpected (re-entrance, type-map ties, shared addresses, type units, declarations met first, symbol pointers, DIEs of the wrong kind, attributes the rules ignore; see docs/gendwarfksyms-semantics.md); versions are unchanged'
complete -c ksymrules -n "__fish_ksymrules_needs_command" -l walk-in-order -d 'Walk the units one after the other (the parallel walk gives the same results; for comparing both and for benchmarks)'
complete -c ksymrules -n "__fish_ksymrules_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ksymrules -n "__fish_ksymrules_needs_command" -s V -l version -d 'Print version'
complete -c ksymrules -n "__fish_ksymrules_needs_command" -a "check-rules" -d 'Check a rules file without versioning anything; with objects, also report its statements that find nothing in them'
complete -c ksymrules -n "__fish_ksymrules_needs_command" -a "compare" -d 'Why symbol versions changed between two builds, and which kABI rules keep the old ones'
complete -c ksymrules -n "__fish_ksymrules_needs_command" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ksymrules -n "__fish_ksymrules_using_subcommand check-rules" -l kabi -d 'kABI files to check too (`kabi`, `drop`, `opaque`, `omit` statements)' -r -F
complete -c ksymrules -n "__fish_ksymrules_using_subcommand check-rules" -l objects -d 'Objects to look for what the statements name' -r -F
complete -c ksymrules -n "__fish_ksymrules_using_subcommand check-rules" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ksymrules -n "__fish_ksymrules_using_subcommand compare" -l old -d 'More objects of the old build' -r -F
complete -c ksymrules -n "__fish_ksymrules_using_subcommand compare" -l new -d 'More objects of the new build' -r -F
complete -c ksymrules -n "__fish_ksymrules_using_subcommand compare" -l symbols -d 'The exports to compare, one name per line (default: the objects\' own `__export_symbol_*` or `__ksymtab_*` symbols)' -r -F
complete -c ksymrules -n "__fish_ksymrules_using_subcommand compare" -l rules -d 'Rules to version objects with instead of the embedded default' -r -F
complete -c ksymrules -n "__fish_ksymrules_using_subcommand compare" -l kabi -d 'kABI files to version objects with' -r -F
complete -c ksymrules -n "__fish_ksymrules_using_subcommand compare" -l format -d 'How to write the report' -r -f -a "human\t'A summary, then each cause with its diff, then the exports'
short\t'One line per changed export: `name 0xold -> 0xnew: cause, cause`'
json\t'The report as JSON (schema: docs/compare.md)'"
complete -c ksymrules -n "__fish_ksymrules_using_subcommand compare" -l suggest-kabi -d 'Write kABI rules that keep the old CRCs to FILE, and check them by versioning NEW again with --stable and the file' -r -F
complete -c ksymrules -n "__fish_ksymrules_using_subcommand compare" -s s -l stable -d 'Support kABI stability features (both sides)'
complete -c ksymrules -n "__fish_ksymrules_using_subcommand compare" -l report-quirks -d 'Add the quirks of both sides\' objects to the report (see `ksymrules --report-quirks`)'
complete -c ksymrules -n "__fish_ksymrules_using_subcommand compare" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ksymrules -n "__fish_ksymrules_using_subcommand help; and not __fish_seen_subcommand_from check-rules compare help" -f -a "check-rules" -d 'Check a rules file without versioning anything; with objects, also report its statements that find nothing in them'
complete -c ksymrules -n "__fish_ksymrules_using_subcommand help; and not __fish_seen_subcommand_from check-rules compare help" -f -a "compare" -d 'Why symbol versions changed between two builds, and which kABI rules keep the old ones'
complete -c ksymrules -n "__fish_ksymrules_using_subcommand help; and not __fish_seen_subcommand_from check-rules compare help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
