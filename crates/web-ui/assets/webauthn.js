/* Tessera passkeys: the WebAuthn ceremonies of the pages. The only script of the pages, served
   from this server (Content-Security-Policy: script-src 'self'; no inline script).

   A form <form data-passkey="register|authenticate" data-options="URL"> holds the hidden
   fields csrf, challenge_id and credential. Its [data-passkey-start] button asks the page's
   server for the options (POST, form-encoded, with the CSRF token), runs
   navigator.credentials.create / get, puts the credential (JSON, binary fields base64url) in
   the hidden field and submits the form. With data-conditional, a sign-in form also starts
   conditional mediation (passkey autofill in the username field) when the page opens.
   Elements marked [data-passkey-only] stay hidden where the browser has no WebAuthn. */
(function () {
  'use strict';

  function toBuffer(value) {
    var s = String(value).replace(/-/g, '+').replace(/_/g, '/');
    while (s.length % 4) {
      s += '=';
    }
    var binary = atob(s);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = '';
    for (var i = 0; i < bytes.length; i++) {
      binary += String.fromCharCode(bytes[i]);
    }
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function descriptors(list) {
    if (!list) {
      return list;
    }
    return list.map(function (c) {
      return Object.assign({}, c, { id: toBuffer(c.id) });
    });
  }

  /* webauthn-rs' CreationChallengeResponse ({publicKey}) → PublicKeyCredentialCreationOptions */
  function creationOptions(options) {
    var pk = Object.assign({}, options.publicKey);
    pk.challenge = toBuffer(pk.challenge);
    pk.user = Object.assign({}, pk.user, { id: toBuffer(pk.user.id) });
    if (pk.excludeCredentials) {
      pk.excludeCredentials = descriptors(pk.excludeCredentials);
    }
    return pk;
  }

  /* webauthn-rs' RequestChallengeResponse ({publicKey, mediation?}) → request options */
  function requestOptions(options) {
    var pk = Object.assign({}, options.publicKey);
    pk.challenge = toBuffer(pk.challenge);
    if (pk.allowCredentials) {
      pk.allowCredentials = descriptors(pk.allowCredentials);
    }
    return pk;
  }

  /* The credential as webauthn-rs reads it (RegisterPublicKeyCredential / PublicKeyCredential). */
  function credentialJson(credential) {
    var r = credential.response;
    var response = { clientDataJSON: toBase64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toBase64url(r.attestationObject);
      if (typeof r.getTransports === 'function') {
        response.transports = r.getTransports();
      }
    } else {
      response.authenticatorData = toBase64url(r.authenticatorData);
      response.signature = toBase64url(r.signature);
      response.userHandle = r.userHandle ? toBase64url(r.userHandle) : null;
    }
    var results = typeof credential.getClientExtensionResults === 'function'
      ? credential.getClientExtensionResults()
      : {};
    var extensions = {};
    if (results && results.credProps) {
      extensions.credProps = { rk: results.credProps.rk };
    }
    return {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      response: response,
      extensions: extensions
    };
  }

  function field(form, name) {
    return form.querySelector('input[name="' + name + '"]');
  }

  function showError(form, message) {
    var box = form.querySelector('[data-passkey-error]') ||
      document.querySelector('[data-passkey-error]');
    if (!box) {
      return;
    }
    box.textContent = message;
    box.hidden = !message;
  }

  function explain(error) {
    var name = error && error.name;
    if (name === 'NotAllowedError') {
      return 'The passkey request was cancelled or timed out. Try again, or use another way.';
    }
    if (name === 'InvalidStateError') {
      return 'This passkey is already registered for your account.';
    }
    if (name === 'SecurityError') {
      return 'Passkeys cannot be used on this address.';
    }
    if (error && error.message && error.fromServer) {
      return error.message;
    }
    return 'The passkey could not be used. Try again, or use another way.';
  }

  /* Asks the server for the ceremony's options; follows a redirect it asks for (step-up). */
  function fetchOptions(form) {
    var body = new URLSearchParams();
    body.set('csrf', field(form, 'csrf').value);
    return fetch(form.getAttribute('data-options'), {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: body.toString()
    }).then(function (res) {
      return res.json().catch(function () {
        return { error: 'The page has expired. Reload it and try again.' };
      }).then(function (data) {
        if (data.redirect) {
          window.location.assign(data.redirect);
          return new Promise(function () {});
        }
        if (!res.ok || !data.options) {
          var e = new Error(data.error || 'The passkey request could not be started.');
          e.fromServer = true;
          throw e;
        }
        return data;
      });
    });
  }

  function submitWith(form, challengeId, credential) {
    field(form, 'challenge_id').value = challengeId;
    field(form, 'credential').value = JSON.stringify(credentialJson(credential));
    form.setAttribute('data-passkey-done', '1');
    form.submit();
  }

  function run(form, button) {
    var kind = form.getAttribute('data-passkey');
    /* A button press replaces the autofill request (one ceremony at a time). */
    if (form.passkeyAbort) {
      form.passkeyAbort.abort();
      form.passkeyAbort = null;
    }
    showError(form, '');
    if (button) {
      button.disabled = true;
      button.setAttribute('aria-busy', 'true');
    }
    return fetchOptions(form)
      .then(function (data) {
        if (kind === 'register') {
          return navigator.credentials
            .create({ publicKey: creationOptions(data.options) })
            .then(function (credential) {
              submitWith(form, data.challenge_id, credential);
            });
        }
        return navigator.credentials
          .get({ publicKey: requestOptions(data.options) })
          .then(function (credential) {
            submitWith(form, data.challenge_id, credential);
          });
      })
      .catch(function (error) {
        showError(form, explain(error));
        if (button) {
          button.disabled = false;
          button.removeAttribute('aria-busy');
        }
      });
  }

  /* Passkey autofill: offered in the username field until the person picks a passkey. */
  function conditional(form) {
    if (!window.PublicKeyCredential ||
        typeof PublicKeyCredential.isConditionalMediationAvailable !== 'function') {
      return;
    }
    PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
      if (!available) {
        return;
      }
      return fetchOptions(form).then(function (data) {
        var controller = new AbortController();
        form.passkeyAbort = controller;
        return navigator.credentials
          .get({
            publicKey: requestOptions(data.options),
            mediation: 'conditional',
            signal: controller.signal
          })
          .then(function (credential) {
            if (credential) {
              submitWith(form, data.challenge_id, credential);
            }
          });
      });
    }).catch(function () {
      /* Autofill is a convenience: the button and the password stay. */
    });
  }

  function start() {
    var supported = !!(window.PublicKeyCredential && navigator.credentials);
    var only = document.querySelectorAll('[data-passkey-only]');
    for (var i = 0; i < only.length; i++) {
      only[i].hidden = !supported;
    }
    if (!supported) {
      return;
    }
    var forms = document.querySelectorAll('form[data-passkey]');
    Array.prototype.forEach.call(forms, function (form) {
      var button = form.querySelector('[data-passkey-start]');
      if (button) {
        button.addEventListener('click', function (event) {
          event.preventDefault();
          run(form, button);
        });
      }
      if (form.hasAttribute('data-conditional')) {
        conditional(form);
      }
    });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
