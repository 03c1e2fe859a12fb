#!/usr/bin/env bash
# gen-hostile.sh — writes tests/data/hostile/: inputs that attack an XML reader
# rather than break a schema rule (entity expansion, external entities, DTDs,
# depth). A UFTP reader must reject every one of them quickly, with bounded
# memory and without opening a file or a socket. The outputs are committed;
# rerun this script only to change them. Inputs too large to commit (a 10 MB
# attribute, 100,000 attributes) are built at test time by the codec tests.
set -euo pipefail
cd "$(dirname "$0")/hostile"

# The attributes of a valid TestMessage, so that only the attack is wrong.
META='Version="3.1.0" RecipientDomain="dso.example.com" TimeStamp="2025-03-01T09:15:00+01:00" MessageID="2ee892cc-c666-5c5a-88c3-ef7a1508703b" ConversationID="2d4b523a-7866-52f9-98f9-5dcb21c740cc"'

# Exponential entity expansion: 10^9 "lol"s from a few hundred bytes.
{
  echo '<?xml version="1.0" encoding="UTF-8"?>'
  echo '<!DOCTYPE TestMessage ['
  echo '  <!ENTITY lol "lol">'
  prev=lol
  for i in 1 2 3 4 5 6 7 8 9; do
    printf '  <!ENTITY lol%d "' "$i"
    for _ in 1 2 3 4 5 6 7 8 9 10; do printf '&%s;' "$prev"; done
    echo '">'
    prev=lol$i
  done
  echo ']>'
  echo "<TestMessage SenderDomain=\"&lol9;\" $META/>"
} > billion-laughs.xml

# Quadratic blow-up: one 10 kB entity referenced 2,000 times (20 MB if
# expanded) in a free-text attribute, where any length would be valid.
{
  echo '<?xml version="1.0" encoding="UTF-8"?>'
  printf '<!DOCTYPE FlexOfferResponse [<!ENTITY a "%s">]>\n' "$(head -c 10000 /dev/zero | tr '\0' 'a')"
  printf '<FlexOfferResponse SenderDomain="flexd.example.org" %s Result="Rejected" FlexOfferMessageID="1590f8ac-f802-5c83-8d64-7aa2aab283da" RejectionReason="' "$META"
  for _ in $(seq 2000); do printf '&a;'; done
  echo '"/>'
} > quadratic-blowup.xml

# External general entities: a local file and a loopback URL (port 9, discard).
cat > xxe-file.xml <<XML
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE TestMessage [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<TestMessage SenderDomain="agr.example.com" $META>&xxe;</TestMessage>
XML
cat > xxe-http.xml <<XML
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE TestMessage [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/x">]>
<TestMessage SenderDomain="agr.example.com" $META>&xxe;</TestMessage>
XML
# External parameter entity, expanded inside the DTD itself.
cat > xxe-parameter-entity.xml <<XML
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE TestMessage [<!ENTITY % ext SYSTEM "http://127.0.0.1:9/evil.dtd"> %ext;]>
<TestMessage SenderDomain="agr.example.com" $META/>
XML
# External DTD subset.
cat > external-dtd.xml <<XML
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE TestMessage SYSTEM "http://127.0.0.1:9/uftp.dtd">
<TestMessage SenderDomain="agr.example.com" $META/>
XML
# Internal subsets that would make the message valid if honoured: a DOCTYPE
# is refused as such, not only when it does harm.
cat > doctype-internal-entity.xml <<XML
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE TestMessage [<!ENTITY agr "agr.example.com">]>
<TestMessage SenderDomain="&agr;" $META/>
XML
cat > doctype-attribute-default.xml <<XML
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE TestMessage [<!ATTLIST TestMessage SenderDomain CDATA "agr.example.com">]>
<TestMessage $META/>
XML

# 10,000 nested elements (libxml2's default depth limit is 256).
{
  echo '<?xml version="1.0" encoding="UTF-8"?>'
  printf '<FlexOffer>'
  for _ in $(seq 10000); do printf '<a>'; done
  for _ in $(seq 10000); do printf '</a>'; done
  echo '</FlexOffer>'
} > deep-nesting-10000.xml
