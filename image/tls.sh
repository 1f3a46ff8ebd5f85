#!/usr/bin/env bash
# TLS for clients and the quorum, sourced by start.sh and ensemble.sh (never run on its own).
#
# When the Secret's files are mounted at ZOO_TLS_DIR (tls.crt, tls.key and ca.crt: a kubernetes.io/tls Secret with
# the CA, cert-manager's layout), clients speak TLS on ZOO_SECURE_CLIENT_PORT, the members speak TLS to each other on
# the quorum and election ports (sslQuorum, no plaintext), and the plaintext client port listens on 127.0.0.1 only:
# the probes, metrics.sh, the ensemble loop and its reconfigurations (which ZooKeeper 3.9 runs through a plaintext
# client port in each server line) stay inside the pod. Members ask each other's state (zk_peer_word) over TLS, with
# their own certificate.
#
# ZooKeeper reads a PEM key store as one file holding the private key (PKCS#8) and its chain, so zk_tls_install
# writes that file, and the CA's, under $ZOO_STATE_DIR/tls, each in one rename. The ensemble loop writes them again
# when the mounted files change (the kubelet's Secret refresh, a cert-manager renewal), after the same checks as at
# start; ZooKeeper's file watchers (client.certReload, sslQuorumReloadCertFiles) then reload them without a restart.

: "${ZOO_TLS_DIR:=/etc/zookeeper/tls}"
ZK_TLS_FILES=(tls.crt tls.key ca.crt)

# zk_tls_enabled: any of the TLS files is mounted (zk_tls_problems then wants all three).
zk_tls_enabled() {
  local name
  for name in "${ZK_TLS_FILES[@]}"; do
    [[ ! -e $ZOO_TLS_DIR/$name ]] || return 0
  done
  return 1
}

# zk_tls_store: where the files ZooKeeper reads are written.
zk_tls_store() {
  echo "$ZOO_STATE_DIR/tls"
}

# zk_tls_problems NAME: one line per reason the mounted files cannot serve the member called NAME (its FQDN): a
# missing file, a key that is not the certificate's, an expired certificate, one the CA does not sign, one that does
# not cover NAME. Nothing when they can.
zk_tls_problems() {
  local name=$1 file missing=() crt=$ZOO_TLS_DIR/tls.crt key=$ZOO_TLS_DIR/tls.key ca=$ZOO_TLS_DIR/ca.crt why
  for file in "${ZK_TLS_FILES[@]}"; do
    [[ -r $ZOO_TLS_DIR/$file ]] || missing+=("$ZOO_TLS_DIR/$file")
  done
  if ((${#missing[@]})); then
    echo "${missing[*]} missing or unreadable: TLS needs tls.crt, tls.key and ca.crt in $ZOO_TLS_DIR (a" \
      "kubernetes.io/tls Secret with ca.crt, as cert-manager writes it)"
    return 0
  fi
  if ! openssl x509 -in "$crt" -noout 2>/dev/null; then
    echo "$crt is not a PEM certificate"
    return 0
  fi
  if ! openssl pkey -in "$key" -noout 2>/dev/null; then
    echo "$key is not a PEM private key (or is encrypted: the image takes an unencrypted key)"
    return 0
  fi
  if [[ $(openssl x509 -in "$crt" -noout -pubkey) != "$(openssl pkey -in "$key" -pubout)" ]]; then
    echo "$key is not the key of $crt (their public keys differ)"
  fi
  if ! openssl x509 -in "$crt" -noout -checkend 0 >/dev/null; then
    echo "$crt expired on $(openssl x509 -in "$crt" -noout -enddate | cut -d= -f2)"
  fi
  if ! why=$(openssl verify -no_check_time -CAfile "$ca" -untrusted "$crt" "$crt" 2>&1); then
    echo "$crt is not signed by the CA in $ca: $(grep -m1 'error' <<<"$why" || tail -n1 <<<"$why")"
  fi
  if [[ $(openssl x509 -in "$crt" -noout -checkhost "$name") != *"does match"* ]]; then
    echo "$crt does not cover this member's name $name (its names:" \
      "$(openssl x509 -in "$crt" -noout -ext subjectAltName 2>/dev/null | tail -n +2 | tr -d ' ' | paste -sd, -))"
  fi
}

# zk_tls_digest: one digest of the mounted files, to tell a renewal from the files already in use.
zk_tls_digest() {
  local name
  for name in "${ZK_TLS_FILES[@]}"; do
    cat "$ZOO_TLS_DIR/$name" 2>/dev/null
  done | sha256sum | cut -d' ' -f1
}

# zk_tls_install: write the key store (the key as PKCS#8, then tls.crt's chain) and the trust store (ca.crt) that
# ZooKeeper reads, each in one rename, and the digest of what they came from. zk_tls_problems first.
zk_tls_install() {
  local store
  store=$(zk_tls_store)
  mkdir -p "$store"
  (
    umask 0077 # the private key: this uid only
    { openssl pkey -in "$ZOO_TLS_DIR/tls.key" && cat "$ZOO_TLS_DIR/tls.crt"; } | zk_write_atomic "$store/keystore.pem"
  )
  zk_write_atomic "$store/truststore.pem" <"$ZOO_TLS_DIR/ca.crt"
  zk_tls_digest | zk_write_atomic "$store/installed.sha256"
}

# zk_tls_config: the zoo.cfg lines of TLS (ZooKeeper turns the ssl.* and client.* keys into its zookeeper.* system
# properties). Client port: TLS 1.3 and 1.2, client certificates as ZOO_TLS_CLIENT_AUTH says, checked against the CA;
# a client is not named by its address, so no hostname check. Quorum: the peer's certificate must cover the name it
# is dialled by; a peer that dials in is known by its certificate (its reverse DNS is no name it chose).
zk_tls_config() {
  local store prefix
  store=$(zk_tls_store)
  echo "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory"
  echo "secureClientPort=$ZOO_SECURE_CLIENT_PORT"
  echo "sslQuorum=true"
  echo "sslQuorumReloadCertFiles=true"
  echo "client.certReload=true"
  echo "authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider"
  for prefix in ssl ssl.quorum; do
    echo "$prefix.keyStore.location=$store/keystore.pem"
    echo "$prefix.keyStore.type=PEM"
    echo "$prefix.trustStore.location=$store/truststore.pem"
    echo "$prefix.trustStore.type=PEM"
    echo "$prefix.enabledProtocols=TLSv1.3,TLSv1.2"
  done
  echo "ssl.clientAuth=$ZOO_TLS_CLIENT_AUTH"
  echo "ssl.hostnameVerification=false"
  echo "ssl.quorum.clientAuth=need"
  echo "ssl.quorum.hostnameVerification=true"
  echo "ssl.quorum.clientHostnameVerification=false"
}

# zk_tls_word HOST WORD: a four-letter word over TLS to HOST's secure client port, as this member (its certificate),
# checking HOST's certificate against the CA and HOST's name; the reply, nothing when there is none.
zk_tls_word() {
  local store
  store=$(zk_tls_store)
  printf "%s" "$2" | timeout "${ZK_4LW_TIMEOUT:-3}" openssl s_client -quiet \
    -connect "$1:$ZOO_SECURE_CLIENT_PORT" -servername "$1" -verify_hostname "$1" -verify_return_error \
    -CAfile "$store/truststore.pem" -cert "$store/keystore.pem" -key "$store/keystore.pem" 2>/dev/null
}

# zk_tls_refresh NAME: when the mounted files changed since they were installed, install them again if they pass the
# checks for NAME (ZooKeeper reloads them); keep the files in use and say why when they do not. Prints one line when
# it did something, for the loop's log.
zk_tls_refresh() {
  local store installed problems
  store=$(zk_tls_store)
  installed=$(cat "$store/installed.sha256" 2>/dev/null) || true
  [[ $(zk_tls_digest) != "$installed" ]] || return 0
  problems=$(zk_tls_problems "$1")
  if [[ -n $problems ]]; then
    echo "the TLS files in $ZOO_TLS_DIR changed but are refused, the ones in use stay: $(paste -sd';' - <<<"$problems")"
    return 0
  fi
  zk_tls_install
  echo "the TLS files in $ZOO_TLS_DIR changed: installed for ZooKeeper to reload (certificate valid until" \
    "$(openssl x509 -in "$ZOO_TLS_DIR/tls.crt" -noout -enddate | cut -d= -f2))"
}
