import { useMutation, useQueryClient } from '@tanstack/react-query'
import type { FormEvent } from 'react'
import { useState } from 'react'
import type { User } from '../../../shared/api.ts'
import { credentialsBody, DISPLAY_NAME_MAX_LENGTH, signupBody } from '../../../shared/api.ts'
import { api } from '../api/endpoints.ts'
import { queryKeys } from '../api/queries.ts'
import { navigate } from '../routing/router.ts'
import { authErrorMessage } from './auth-error-message.ts'
import { storeUser } from './stored-user.ts'

type Form = 'signup' | 'login'

interface SignupInput {
  username: string
  password: string
  displayName: string
}

/** Renders the sign-up or the log-in form, as the route selects. */
export function AuthScreen({ form }: { form: Form }) {
  const queryClient = useQueryClient()
  const [input, setInput] = useState<SignupInput>({ username: '', password: '', displayName: '' })
  const [invalid, setInvalid] = useState<string | null>(null)

  const submit = useMutation({
    mutationFn: async (values: SignupInput) => {
      if (form === 'login')
        return api.login({ username: values.username, password: values.password })
      const displayName = values.displayName.trim()
      return api.signup({
        username: values.username,
        password: values.password,
        ...(displayName ? { displayName } : {}),
      })
    },
    onSuccess: ({ user }: { user: User }) => {
      storeUser(user)
      queryClient.setQueryData(queryKeys.me, user)
      // A conversation link opened while signed out stays where it was.
      if (form === 'signup' || window.location.pathname === '/login') navigate({ name: 'home' })
    },
  })

  function handleSubmit(event: FormEvent) {
    event.preventDefault()
    const problem = validate(form, input)
    setInvalid(problem)
    if (problem === null) submit.mutate(input)
  }

  function switchTo(next: Form) {
    setInvalid(null)
    submit.reset()
    navigate({ name: next }, { replace: true })
  }

  const error = invalid ?? (submit.isError ? authErrorMessage(submit.error, form) : null)
  const prefix = form

  return (
    <main className="auth">
      <form className="auth__card" onSubmit={handleSubmit} noValidate>
        <div className="auth__brand">
          <img src="/icon.svg" alt="" width={40} height={40} />
          <h1>Parley</h1>
        </div>
        <h2 className="auth__title">{form === 'signup' ? 'Create an account' : 'Log in'}</h2>

        <label className="field">
          <span>Username</span>
          <input
            data-testid={`${prefix}-username`}
            name="username"
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            value={input.username}
            onChange={(event) => setInput({ ...input, username: event.target.value })}
            required
          />
        </label>
        {form === 'signup' && (
          <label className="field">
            <span>Display name (optional)</span>
            <input
              data-testid="signup-display-name"
              name="displayName"
              autoComplete="name"
              value={input.displayName}
              onChange={(event) => setInput({ ...input, displayName: event.target.value })}
            />
          </label>
        )}
        <label className="field">
          <span>Password</span>
          <input
            data-testid={`${prefix}-password`}
            name="password"
            type="password"
            autoComplete={form === 'signup' ? 'new-password' : 'current-password'}
            value={input.password}
            onChange={(event) => setInput({ ...input, password: event.target.value })}
            required
          />
        </label>

        {error && (
          <p className="auth__error" role="alert" data-testid="auth-error">
            {error}
          </p>
        )}

        <button
          className="button button--primary button--wide"
          type="submit"
          data-testid={`${prefix}-submit`}
          disabled={submit.isPending}
        >
          {form === 'signup' ? 'Sign up' : 'Log in'}
        </button>

        {form === 'signup' ? (
          <p className="auth__switch">
            Already have an account?{' '}
            <button
              type="button"
              className="link"
              data-testid="switch-to-login"
              onClick={() => switchTo('login')}
            >
              Log in
            </button>
          </p>
        ) : (
          <p className="auth__switch">
            New to Parley?{' '}
            <button
              type="button"
              className="link"
              data-testid="switch-to-signup"
              onClick={() => switchTo('signup')}
            >
              Create an account
            </button>
          </p>
        )}
      </form>
    </main>
  )
}

/** Checks the form with the schemas the server uses and returns the first problem, or null. */
function validate(form: Form, input: SignupInput): string | null {
  if (form === 'login') {
    const result = credentialsBody.safeParse({ username: input.username, password: input.password })
    return result.success ? null : 'Enter your username and password.'
  }
  const displayName = input.displayName.trim()
  const result = signupBody.safeParse({
    username: input.username,
    password: input.password,
    ...(displayName ? { displayName } : {}),
  })
  if (result.success) return null
  const issue = result.error.issues[0]
  const field = issue?.path[0]
  if (field === 'username') return `Username ${issue?.message}.`
  if (field === 'password') return `Password ${issue?.message}.`
  if (field === 'displayName') {
    return `Display name must be at most ${DISPLAY_NAME_MAX_LENGTH} characters.`
  }
  return 'Check the form and try again.'
}
